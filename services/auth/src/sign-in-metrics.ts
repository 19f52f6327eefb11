import type { Metrics } from '@gatehouse/server/http'

export type SsoOutcome = 'succeeded' | 'refused' | 'rate_limited' | 'unavailable'
export type PasswordOutcome = 'succeeded' | 'wrong_password' | 'unknown_email' | 'throttled'

/**
 * Sign-in counters. Label values come from fixed sets (outcomes, and the SAML refusal reasons
 * @gatehouse/saml defines): never an email, a connection id or anything a client chose.
 */
export function createSignInMetrics(metrics: Metrics) {
  const sso = metrics.counter({
    name: 'gatehouse_sso_sign_ins_total',
    help: 'SSO sign-ins at the ACS by outcome and refusal reason ("none" when they succeeded).',
    labelNames: ['outcome', 'reason'],
  })
  const password = metrics.counter({
    name: 'gatehouse_password_sign_ins_total',
    help: 'Password sign-ins by outcome.',
    labelNames: ['outcome'],
  })
  return {
    sso: (outcome: SsoOutcome, reason = 'none') => sso.inc({ outcome, reason }),
    password: (outcome: PasswordOutcome) => password.inc({ outcome }),
  }
}

export type SignInMetrics = ReturnType<typeof createSignInMetrics>
