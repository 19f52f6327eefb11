import { type ParsedIdpConfig, SamlConfigError, type SamlConfigErrorReason } from '@gatehouse/saml'
import { networkOf } from '@gatehouse/server/http'
import { createWorkerPool } from '@gatehouse/server/worker-pool'
import type { FastifyBaseLogger } from 'fastify'

export type IdpValues = { ssoUrl: string; entityId: string; certificate: string } | { metadataXml: string }

export interface IdpParseTask {
  input: IdpValues
  allowLoopbackHttp: boolean
}

export type IdpParseOutcome =
  | { parsed: ParsedIdpConfig }
  | { refused: { reason: SamlConfigErrorReason; fields: Record<string, string> } }

export interface IdpConfigParser {
  /**
   * The IdP's values or metadata parsed (@gatehouse/saml); a SamlConfigError when refused. `keys`
   * name who asks (parserAdmissionKeys), each of whom holds at most 2 of the 8 waiting places.
   */
  parse(task: IdpParseTask, keys?: readonly string[]): Promise<ParsedIdpConfig>
  close(): Promise<void>
}

// The bundle (scripts/build.ts) puts the worker beside dist/server.mjs as idp-config-worker.mjs.
const workerFile = import.meta.url.endsWith('.mjs')
  ? new URL('./idp-config-worker.mjs', import.meta.url)
  : new URL('./idp-config-worker.ts', import.meta.url)

/** Who asks for a parse, as the parser's queue shares its places out (createIdpConfigParser). */
export function parserAdmissionKeys(who: { workspaceId: string; userId?: string; ip?: string }): string[] {
  return [
    `workspace:${who.workspaceId}`,
    ...(who.userId ? [`account:${who.userId}`] : []),
    ...(who.ip ? [`network:${networkOf(who.ip)}`] : []),
  ]
}

/**
 * IdP configuration is parsed on a thread of its own: the costliest metadata the XML limits allow
 * takes tens of milliseconds, and any self-registered user may upload some, so parsing it on the
 * event loop delayed every other request of the process (a bystander's sign-in p99 grew 2.6× beside
 * 4 uploaders). One thread, 8 waiting uploads at most (a refusal after that is 503 with
 * Retry-After): a parse waits at most 8 × the worst parse, under half a second. One queue serves
 * every tenant, so a workspace, an account and a network each hold at most 2 of the 8 places (503
 * past that): one tenant, or one attacker with several self-registered workspaces, cannot keep
 * everyone else's uploads out.
 */
export function createIdpConfigParser(options: { log?: FastifyBaseLogger } = {}): IdpConfigParser {
  const pool = createWorkerPool<IdpParseTask, IdpParseOutcome>({
    file: workerFile,
    name: 'IdP configuration',
    threads: 1,
    queueLimit: 8,
    waitingPerKey: 2,
    taskTimeoutMs: 10_000,
    onThreadError: (error) => options.log?.error({ err: error }, 'IdP configuration parser thread failed'),
  })
  return {
    async parse(task, keys) {
      const outcome = await pool.run(task, keys)
      if ('refused' in outcome) throw new SamlConfigError(outcome.refused.reason, outcome.refused.fields)
      return outcome.parsed
    },
    close: () => pool.close(),
  }
}
