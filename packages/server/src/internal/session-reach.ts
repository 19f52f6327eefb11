// What a session reaches (CONTRACT.md "Sessions and what they reach"), declared once for every
// service: auth answers its internal introspection with `IntrospectionAnswer`, and the services
// that ask check the answer against the same schema before trusting it.
import { type Static, Type } from 'typebox'
import { Compile } from 'typebox/compile'
import { defineError } from '../errors.ts'
import { Uuid } from '../http/schemas.ts'

export const SessionMethod = Type.Union([Type.Literal('password'), Type.Literal('saml')])

/** How one authentication of the browser was made: a SAML one names the workspace it reaches. */
export const Authentication = Type.Object({
  method: SessionMethod,
  workspaceId: Type.Optional(Uuid),
  connectionId: Type.Optional(Uuid),
})
export type Authentication = Static<typeof Authentication>

/** Where to sign in to reach what was refused: the password page, and the workspace's own SSO. */
export const SignIn = Type.Object({
  password: Type.Optional(Type.String({ description: 'the password sign-in page' })),
  sso: Type.Optional(Type.String({ description: "the workspace's SSO start (GET)" })),
})
export type SignIn = Static<typeof SignIn>

/** 403 `reauthentication_required`: the session is real but does not reach this; `signIn` says where to go. */
export const reauthenticationRequired = (message: string, signIn: SignIn) =>
  defineError(403, 'reauthentication_required', message)(message, { signIn })

export const IntrospectionRequest = Type.Object({
  // The `session` cookie's value as the browser sent it (up to a few tokens, see auth's sessions).
  sessionToken: Type.String({ maxLength: 1024 }),
  workspaceId: Type.Optional(Uuid),
  email: Type.Optional(Type.String({ maxLength: 320 })),
})
export type IntrospectionRequest = Static<typeof IntrospectionRequest>

export const IntrospectionAnswer = Type.Object({
  user: Type.Object({
    id: Uuid,
    email: Type.String(),
    createdVia: Type.String(),
    // The account's age: invitation emails are limited more tightly for accounts under a day old
    // (optional, so an auth that does not send it yet still answers; its users count as young).
    createdAt: Type.Optional(Type.String({ format: 'date-time' })),
    // Whether the account's address is proven; an unproven account may not accept invitations
    // (optional, so an older auth still answers: then it counts as unproven).
    emailConfirmed: Type.Optional(Type.Boolean()),
  }),
  authentications: Type.Array(Authentication),
  /**
   * The password authentication, when the browser holds one: only it may act on the account
   * (create workspaces, accept invitations, change the account). Null: `reauthentication_required`.
   */
  account: Type.Union([Authentication, Type.Null()]),
  workspace: Type.Union([
    Type.Object({
      id: Uuid,
      name: Type.String(),
      role: Type.Union([Type.Literal('owner'), Type.Literal('admin'), Type.Literal('member'), Type.Null()]),
      emailIsMember: Type.Union([Type.Boolean(), Type.Null()]),
      /** The authentication that reaches this workspace; null: `reauthentication_required`, at `signIn`. */
      reachedBy: Type.Union([Authentication, Type.Null()]),
      signIn: SignIn,
    }),
    Type.Null(),
  ]),
})
export type IntrospectionAnswer = Static<typeof IntrospectionAnswer>

const answerCheck = Compile(IntrospectionAnswer)

/** Auth's answer, or undefined when the value is not one (a wrong AUTH_URL, a mismatched release). */
export function parseIntrospectionAnswer(value: unknown): IntrospectionAnswer | undefined {
  return answerCheck.Check(value) ? (value as IntrospectionAnswer) : undefined
}
