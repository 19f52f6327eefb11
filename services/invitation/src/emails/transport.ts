import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import nodemailer from 'nodemailer'

export interface OutgoingEmail {
  /** Also the Message-ID's left part and the `.eml` file name: one message, one id. */
  id: string
  to: string
  subject: string
  text: string
  html: string
}

export interface MailTransport {
  send(email: OutgoingEmail): Promise<void>
  close(): void
}

export interface MailTransportOptions {
  smtpUrl: URL | undefined
  from: string
  /** Where `.eml` files go without SMTP: `DATA_DIR/mail`. */
  mailDirectory: string
  /** Logs the link of a message written to a file, so a developer can follow it (never in production). */
  logLink?: (details: { emailId: string; to: string; link: string }) => void
}

/** SMTP when `SMTP_URL` is set (CONTRACT.md), otherwise `.eml` files for development. */
export function createMailTransport(options: MailTransportOptions): MailTransport {
  const message = (email: OutgoingEmail) => ({
    from: options.from,
    messageId: `<${email.id}@${domainOf(options.from)}>`,
    to: email.to,
    subject: email.subject,
    text: email.text,
    html: email.html,
  })
  if (options.smtpUrl) {
    const transporter = nodemailer.createTransport({
      url: options.smtpUrl.href,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    })
    return {
      async send(email) {
        await transporter.sendMail(message(email))
      },
      close: () => transporter.close(),
    }
  }
  const writer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
  return {
    async send(email) {
      const written = await writer.sendMail(message(email))
      await mkdir(options.mailDirectory, { recursive: true, mode: 0o700 })
      await writeFile(join(options.mailDirectory, `${email.id}.eml`), written.message as Buffer, { mode: 0o600 })
      const link = /\S+\/invite#token=[\w-]+/.exec(email.text)?.[0]
      if (link) options.logLink?.({ emailId: email.id, to: email.to, link })
    },
    close: () => writer.close(),
  }
}

function domainOf(from: string): string {
  return /@([^>\s]+)>?$/.exec(from)?.[1] ?? 'localhost'
}
