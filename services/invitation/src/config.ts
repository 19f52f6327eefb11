import {
  type BaseConfig,
  ConfigError,
  type Env,
  loadBaseConfig,
  readCount,
  readDuration,
  readUrl,
  readUrlRequiredInProduction,
} from '@gatehouse/server/process'

export interface InvitationConfig extends BaseConfig {
  /** Where auth's internal API answers (`/internal/introspect`). */
  authUrl: URL
  /** SMTP server for invitation emails; undefined (development only) writes `.eml` files under `DATA_DIR/mail`. */
  smtpUrl: URL | undefined
  mailFrom: string
  invitationTtlSeconds: number
  /**
   * The BullMQ queue the email sender works on. Replicas of one deployment share it; a deployment
   * side by side on the same Redis and database (or a test) names its own, so its emails leave
   * through its own SMTP server.
   */
  mailQueue: string
  /**
   * Invitation emails (invitations and resends) an account, and a workspace, may send per day
   * (`INVITATION_MAILS_PER_INVITER`, `INVITATION_MAILS_PER_WORKSPACE`); a tenth of that for
   * accounts under a day old (src/invitations/mail-limits.ts). Raise them for large onboardings.
   */
  mailsPerDay: { inviter: number; workspace: number }
}

const defaultTtlSeconds = 7 * 24 * 60 * 60

export function loadConfig(env: Env = process.env): InvitationConfig {
  const base = loadBaseConfig(env, 'invitation', 3002)
  return {
    ...base,
    authUrl: readUrl(env, 'AUTH_URL', 'http://127.0.0.1:3001', ['http:', 'https:']),
    // Without it, mails are files under DATA_DIR/mail: nobody would receive an invitation.
    smtpUrl: readUrlRequiredInProduction(env, 'SMTP_URL', ['smtp:', 'smtps:'], base.production),
    mailFrom: readMailFrom(env),
    invitationTtlSeconds: readDuration(env, 'INVITATION_TTL_SECONDS', defaultTtlSeconds),
    mailQueue: readMailQueue(env),
    mailsPerDay: {
      inviter: readCount(env, 'INVITATION_MAILS_PER_INVITER', 100),
      workspace: readCount(env, 'INVITATION_MAILS_PER_WORKSPACE', 200),
    },
  }
}

// `Name <address>` or a bare address; a line break would let the value inject headers.
function readMailFrom(env: Env): string {
  const raw = env.MAIL_FROM || 'Gatehouse <no-reply@localhost>'
  const address = /<([^<>\s]+@[^<>\s]+)>$/.exec(raw)?.[1] ?? raw
  if (/[\r\n]/.test(raw) || !/^[^@\s<>]+@[^@\s<>]+$/.test(address)) {
    throw new ConfigError('MAIL_FROM', `"${raw}" is not an address or "Name <address>"`)
  }
  return raw
}

function readMailQueue(env: Env): string {
  const raw = env.MAIL_QUEUE || 'invitation-emails'
  if (!/^[\w-]{1,100}$/.test(raw)) throw new ConfigError('MAIL_QUEUE', `"${raw}" is not a queue name ([A-Za-z0-9_-])`)
  return raw
}
