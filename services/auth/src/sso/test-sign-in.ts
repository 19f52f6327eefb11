import { randomBytes } from 'node:crypto'
import { SamlError } from '@gatehouse/saml'
import { samlTestSignIn } from '@gatehouse/server/redis-keys'
import type { Redis } from 'ioredis'
import { type AuditActor, recordAudit } from '../audit/record.ts'
import { authErrors } from '../errors.ts'
import type { AuthDatabase } from '../sessions/repo.ts'
import type { ConnectionCache } from './connections.ts'
import { refusalMessage } from './idp-kinds.ts'
import { pendingLoginSeconds } from './pending-logins.ts'
import { redisReplayStore } from './redis-replay-store.ts'
import { findSsoEligibility } from './repo.ts'

/**
 * Who asked for a test sign-in. Kept here under a random id for as long as a sign-in may take; the
 * browser's pending sign-in (pending-logins.ts) carries the id, so the ACS stores the result for
 * them instead of opening any session. (Starts are open to anyone and keep nothing on the server;
 * a test start is an admin's, limited like every start, so it may.)
 */
export interface TestSignInMark {
  workspaceId: string
  /** `user:<id>` for an owner or admin, `link:<id>` for a setup link's holder: whose result it is. */
  tester: string
  actor: AuditActor
  /** Where the browser goes back to, to read the result. */
  returnTo: string
}

// What a result keeps of the claims: enough to see what the IdP sends, bounded whatever it sends.
const maxAttributes = 40
const maxValues = 10
const maxText = 512

const bounded = (text: string | null | undefined) => (text == null ? null : text.slice(0, maxText))

export interface TestSignInResult {
  at: string
  outcome: 'succeeded' | 'refused'
  /** `true` when the person the IdP named could sign in to the workspace now. */
  memberCanSignIn: boolean
  claims: {
    nameId: string
    nameIdFormat: string | null
    email: string
    firstName: string | null
    lastName: string | null
    issuer: string
    attributes: { name: string; values: string[] }[]
    certificateFingerprint: string
  } | null
  refusal: { code: string; reason: string; reference: string; message: string } | null
}

const { markKey, resultKey, resultSeconds } = samlTestSignIn

/**
 * Test sign-ins: an admin (or a setup link's holder) runs an SP-initiated sign-in through the
 * connection; the response is judged exactly as a member's would be, and what was received — or
 * the precise refusal and what to change — is kept for that tester for an hour. No session is
 * opened or changed, and no login event is written (the sign-in history stays the members').
 */
export function createTestSignIns(deps: { db: AuthDatabase; redis: Redis; connections: ConnectionCache }) {
  return {
    /** Keeps who is testing; the id goes into the browser's pending sign-in. */
    async begin(mark: TestSignInMark): Promise<string> {
      const testId = randomBytes(16).toString('base64url')
      await deps.redis.set(markKey(testId), JSON.stringify(mark), 'EX', pendingLoginSeconds)
      return testId
    },

    async judge(connectionId: string, samlResponse: string, expectedRequestId: string, testId: string) {
      const stored = await deps.redis.getdel(markKey(testId))
      if (!stored) {
        throw authErrors.samlInvalid('This test sign-in has expired. Start it again from the SSO page.', {
          reason: 'test_expired',
        })
      }
      const mark = JSON.parse(stored) as TestSignInMark
      const { row, saml } = await deps.connections.usable(connectionId, { fresh: true })
      let result: TestSignInResult
      try {
        const identity = await saml.validateResponse({
          samlResponse,
          expectedRequestId,
          replayStore: redisReplayStore(deps.redis, row.id),
        })
        const eligibility = await findSsoEligibility(deps.db, {
          connectionId: row.id,
          connectionVersion: row.version,
          email: identity.email,
        })
        const memberCanSignIn = eligibility.outcome === 'eligible'
        const claims = {
          nameId: bounded(identity.nameId) as string,
          nameIdFormat: bounded(identity.nameIdFormat),
          email: bounded(identity.email) as string,
          firstName: bounded(identity.firstName),
          lastName: bounded(identity.lastName),
          issuer: bounded(identity.issuer) as string,
          attributes: Object.entries(identity.attributes)
            .slice(0, maxAttributes)
            .map(([name, values]) => ({
              name: name.slice(0, maxText),
              values: values.slice(0, maxValues).map((value) => value.slice(0, maxText)),
            })),
          certificateFingerprint: identity.signedBy,
        }
        const notAllowed = authErrors.ssoNotAllowed(
          `${claims.email} cannot use SSO for this workspace yet: they need a Gatehouse account made with a password and an accepted invitation to this workspace. The connection itself works.`,
        )
        result = {
          at: new Date().toISOString(),
          outcome: 'succeeded',
          memberCanSignIn,
          claims,
          refusal: memberCanSignIn
            ? null
            : {
                code: notAllowed.code,
                reason: 'not_a_member',
                reference: `${notAllowed.code}/not_a_member`,
                message: notAllowed.message,
              },
        }
      } catch (error) {
        if (!(error instanceof SamlError)) throw error
        const refused =
          error.reason === 'replayed'
            ? authErrors.samlReplayed()
            : authErrors.samlInvalid(refusalMessage(error, row.idpKind), { reason: error.reason })
        result = {
          at: new Date().toISOString(),
          outcome: 'refused',
          memberCanSignIn: false,
          claims: null,
          refusal: {
            code: refused.code,
            reason: error.reason,
            reference: `${refused.code}/${error.reason}`,
            message: refused.message,
          },
        }
      }
      await recordAudit(deps.db, {
        workspaceId: mark.workspaceId,
        actor: mark.actor,
        action: 'sso.test_sign_in',
        changes: {
          outcome: result.outcome,
          ...(result.refusal ? { reference: result.refusal.reference } : {}),
          ...(result.claims ? { certificateFingerprint: result.claims.certificateFingerprint } : {}),
        },
      })
      await deps.redis.set(resultKey(mark.workspaceId, mark.tester), JSON.stringify(result), 'EX', resultSeconds)
      return { kind: 'tested' as const, returnTo: mark.returnTo, result }
    },

    /** The tester's latest result in this workspace (an hour at most), or null. */
    async latest(workspaceId: string, tester: string): Promise<TestSignInResult | null> {
      const stored = await deps.redis.get(resultKey(workspaceId, tester))
      return stored ? (JSON.parse(stored) as TestSignInResult) : null
    },
  }
}

export type TestSignIns = ReturnType<typeof createTestSignIns>
