// A real SMTP server (the `smtp-server` package) that keeps what it receives, parsed, so tests can
// read the emails a service sends. It can also refuse mail for a while (a temporary 451), to test
// that senders retry.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface ReceivedEmail {
  envelopeTo: string[]
  mail: ParsedMail
}

export interface SmtpSink {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  url: string
  received: ReceivedEmail[]
  /** The envelope recipients of each message answered 451 while refusing, in order. */
  refused: string[][]
  /** Resolves with the first email (already received or still to come) that matches, or rejects after `timeoutMs`. */
  waitFor(matches: (email: ReceivedEmail) => boolean, timeoutMs?: number): Promise<ReceivedEmail>
  /** While true, every message is answered `451` (try again later). */
  setRefusing(refusing: boolean): void
  close(): Promise<void>
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const received: ReceivedEmail[] = []
  const refused: string[][] = []
  const waiters = new Set<() => void>()
  let refusing = false

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      if (refusing) {
        refused.push(session.envelope.rcptTo.map((rcpt) => rcpt.address))
        stream.resume()
        stream.on('end', () =>
          callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 })),
        )
        return
      }
      simpleParser(stream).then(
        (mail) => {
          received.push({ envelopeTo: session.envelope.rcptTo.map((rcpt) => rcpt.address), mail })
          for (const wake of waiters) wake()
          callback()
        },
        (error: Error) => callback(error),
      )
    },
  })
  server.listen(0, '127.0.0.1')
  await once(server.server, 'listening')
  const { port } = server.server.address() as AddressInfo

  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    refused,
    setRefusing(value) {
      refusing = value
    },
    waitFor(matches, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(matches)
          if (!found) return
          clearTimeout(timer)
          waiters.delete(check)
          resolve(found)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error(`no matching email within ${timeoutMs} ms (${received.length} received)`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

/** The token of an email's link to `page` (`…/invite#token=<token>`, `/confirm`, `/reset`), from its text part. */
export function linkTokenOf(email: ReceivedEmail, page: '/invite' | '/confirm' | '/reset'): string | undefined {
  return new RegExp(`${page}#token=([\\w-]+)`).exec(email.mail.text ?? '')?.[1]
}

/** Whether an email is an invitation (it links to `/invite`), not another mail to the same address. */
export function isInvitationEmail(email: ReceivedEmail): boolean {
  return linkTokenOf(email, '/invite') !== undefined
}

/** The invitation token in an email's link (`…/invite#token=<token>`), from its text part. */
export function invitationTokenOf(email: ReceivedEmail): string {
  const token = linkTokenOf(email, '/invite')
  if (!token) throw new Error(`no invitation link in: ${email.mail.text}`)
  return token
}
