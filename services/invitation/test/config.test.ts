import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError } from '@gatehouse/server/process'
import { loadConfig } from '../src/config.ts'

describe('invitation configuration', () => {
  it('has the defaults of CONTRACT.md', () => {
    const config = loadConfig({})
    assert.equal(config.port, 3002)
    assert.equal(config.authUrl.href, 'http://127.0.0.1:3001/')
    assert.equal(config.smtpUrl, undefined)
    assert.equal(config.mailFrom, 'Gatehouse <no-reply@localhost>')
    assert.equal(config.invitationTtlSeconds, 7 * 24 * 60 * 60)
    assert.equal(config.mailQueue, 'invitation-emails')
  })

  it('reads AUTH_URL, SMTP_URL, MAIL_FROM and INVITATION_TTL_SECONDS', () => {
    const config = loadConfig({
      AUTH_URL: 'http://auth.internal:8080',
      SMTP_URL: 'smtp://user:pass@mail.example:2525',
      MAIL_FROM: 'Acme <invites@acme.example>',
      INVITATION_TTL_SECONDS: '3600',
    })
    assert.equal(config.authUrl.host, 'auth.internal:8080')
    assert.equal(config.smtpUrl?.port, '2525')
    assert.equal(config.mailFrom, 'Acme <invites@acme.example>')
    assert.equal(config.invitationTtlSeconds, 3600)
    assert.equal(loadConfig({ MAIL_FROM: 'invites@acme.example' }).mailFrom, 'invites@acme.example')
  })

  it('requires DATABASE_URL and SMTP_URL in production, where their development stand-ins would lose data and mail', () => {
    const production = {
      NODE_ENV: 'production',
      COOKIE_SECRET: 'c'.repeat(32),
      INTERNAL_TOKEN: 't'.repeat(32),
      DATABASE_URL: 'postgres://db.internal/gatehouse',
      SMTP_URL: 'smtp://mail.internal:25',
    }
    assert.equal(loadConfig(production).smtpUrl?.host, 'mail.internal:25')
    for (const variable of ['DATABASE_URL', 'SMTP_URL'] as const) {
      assert.throws(
        () => loadConfig({ ...production, [variable]: '' }),
        (error) =>
          error instanceof ConfigError && error.message === `${variable}: is required when NODE_ENV=production`,
        variable,
      )
    }
  })

  it('fails fast on a bad value, naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ AUTH_URL: 'not a url' }, /^AUTH_URL: /],
      [{ AUTH_URL: 'ftp://auth' }, /^AUTH_URL: must start with http: or https:/],
      [{ SMTP_URL: 'http://mail.example' }, /^SMTP_URL: must start with smtp: or smtps:/],
      [{ MAIL_FROM: 'nobody' }, /^MAIL_FROM: /],
      [{ MAIL_FROM: 'Gatehouse <a@b.example>\r\nBcc: x@y.example' }, /^MAIL_FROM: /],
      [{ INVITATION_TTL_SECONDS: '0' }, /^INVITATION_TTL_SECONDS: /],
      [{ INVITATION_TTL_SECONDS: 'a week' }, /^INVITATION_TTL_SECONDS: /],
      [{ MAIL_QUEUE: 'a queue' }, /^MAIL_QUEUE: /],
    ]
    for (const [env, message] of cases) {
      assert.throws(
        () => loadConfig(env),
        (error) => error instanceof ConfigError && message.test(error.message),
        JSON.stringify(env),
      )
    }
  })
})
