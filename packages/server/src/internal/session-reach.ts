// What a session reaches (CONTRACT.md "Sessions and what they reach") and what may be done with
// it elsewhere, declared once for every service: auth's internal routes take and answer these
// schemas, and the services that call them check the answers against the same schemas before
// trusting them.
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

/**
 * The invitation service revoking an accepted invitation asks auth to remove the membership it
 * made, for the admin whose session it forwards; auth decides with the rules of its own members
 * route and answers 204, or one of `membershipRemovalRefusals` with a typed error body.
 */
export const MembershipRemovalRequest = Type.Object({
  sessionToken: Type.String({ maxLength: 1024 }),
  workspaceId: Uuid,
  userId: Uuid,
  // The accepted invitation being revoked: its event, if still on its way, grants nothing.
  invitationId: Type.Optional(Uuid),
  // The admin's address as the invitation service saw it (the audit trail's "from where").
  ip: Type.Optional(Type.String({ maxLength: 64 })),
})
export type MembershipRemovalRequest = Static<typeof MembershipRemovalRequest>

/** Auth's refusals the invitation service passes on to the admin as its own answer. */
export const membershipRemovalRefusals = [401, 403, 404, 409] as const

/** A refusal of an internal call: the error body every service answers, bounded for relaying. */
export const InternalRefusal = Type.Object({
  error: Type.String({ pattern: '^[a-z_]{1,64}$' }),
  message: Type.String({ maxLength: 1000 }),
  signIn: Type.Optional(SignIn),
})
export type InternalRefusal = Static<typeof InternalRefusal>

const refusalCheck = Compile(InternalRefusal)

/** A refusal's body, or undefined when the value is not one (then the callee is not trusted). */
export function parseInternalRefusal(value: unknown): InternalRefusal | undefined {
  return refusalCheck.Check(value) ? (value as InternalRefusal) : undefined
}

/** Auth's answer, or undefined when the value is not one (a wrong AUTH_URL, a mismatched release). */
export function parseIntrospectionAnswer(value: unknown): IntrospectionAnswer | undefined {
  return answerCheck.Check(value) ? (value as IntrospectionAnswer) : undefined
}
