import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { eventually, temporaryDirectory, uniqueEmail } from '@gatehouse/testing'
import {
  type AuthStandIn,
  type InvitationTestApp,
  invite,
  lookup,
  ownerWithWorkspace,
  publicUrl,
  startAuth,
  startInvitationApp,
} from './harness.ts'

describe('invitation emails without SMTP_URL (development)', () => {
  let auth: AuthStandIn
  let invitation: InvitationTestApp
  const dataDir = temporaryDirectory()
  before(async () => {
    auth = await startAuth()
    invitation = await startInvitationApp({ authUrl: auth.url, env: { DATA_DIR: dataDir.path } })
  })
  after(async () => {
    await invitation.close()
    await auth.close()
    dataDir.remove()
  })

  it('are written as .eml files under DATA_DIR/mail, and the link is logged for the developer', async () => {
    const { owner, workspace } = ownerWithWorkspace(auth)
    const email = uniqueEmail('carol')
    assert.equal((await invite(invitation, owner.cookie, { workspaceId: workspace.id, email })).statusCode, 201)

    // Chosen by recipient: the directory holds whatever else this process mailed (owner notices).
    const mailDirectory = join(dataDir.path, 'mail')
    const recipient = new RegExp(`^To: ${email}$`, 'm')
    const toCarol = await eventually(
      'the .eml file to be written',
      async () => {
        const written = await readdir(mailDirectory).catch(() => [] as string[])
        const messages = await Promise.all(
          written.map(async (file) => ({ file, text: await readFile(join(mailDirectory, file), 'utf8') })),
        )
        const hers = messages.filter((message) => recipient.test(message.text))
        return hers.length > 0 ? hers : undefined
      },
      { timeoutMs: 10_000, intervalMs: 25 },
    )
    assert.equal(toCarol.length, 1)
    const [message] = toCarol
    assert.match(message?.file ?? '', /^[0-9a-f-]{36}\.eml$/)
    assert.match(message?.text ?? '', /^Content-Type: multipart\/alternative/m)

    const logged = invitation
      .logs()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg: string; link?: string; to?: string })
      .find((line) => line.msg === 'invitation email written to a file' && line.to === email)
    const token = logged?.link?.split(`${publicUrl}/invite#token=`)[1]
    assert.ok(token, 'the link is logged')
    assert.equal((await lookup(invitation, token)).json().email, email)
  })
})
