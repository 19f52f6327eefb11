import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { eventually, temporaryDirectory, uniqueEmail } from '@gatehouse/testing'
import {
  type AuthServer,
  type InvitationTestApp,
  invite,
  lookup,
  ownerWithWorkspace,
  publicUrl,
  startAuthServer,
  startInvitationApp,
} from './harness.ts'

describe('invitation emails without SMTP_URL (development)', () => {
  let auth: AuthServer
  let invitation: InvitationTestApp
  const dataDir = temporaryDirectory()
  before(async () => {
    auth = await startAuthServer()
    invitation = await startInvitationApp({ authUrl: auth.url, env: { DATA_DIR: dataDir.path } })
  })
  after(async () => {
    await invitation.close()
    await auth.close()
    dataDir.remove()
  })

  it('are written as .eml files under DATA_DIR/mail, and the link is logged for the developer', async () => {
    const { owner, workspace } = await ownerWithWorkspace(auth)
    const email = uniqueEmail('carol')
    assert.equal((await invite(invitation, owner.cookie, { workspaceId: workspace.id, email })).statusCode, 201)

    const mailDirectory = join(dataDir.path, 'mail')
    const files = await eventually(
      'the .eml file to be written',
      async () => {
        const written = await readdir(mailDirectory).catch(() => [] as string[])
        return written.length > 0 ? written : undefined
      },
      { timeoutMs: 10_000, intervalMs: 25 },
    )
    assert.equal(files.length, 1)
    assert.match(files[0] ?? '', /^[0-9a-f-]{36}\.eml$/)
    const message = await readFile(join(mailDirectory, files[0] ?? ''), 'utf8')
    assert.match(message, new RegExp(`^To: ${email}$`, 'm'))
    assert.match(message, /^Content-Type: multipart\/alternative/m)

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
