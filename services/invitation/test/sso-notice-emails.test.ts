import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { createEvent } from '@gatehouse/events'
import { renderSetupLinkEmail, renderSsoChangeEmail } from '../src/emails/sso-change-email.ts'

const settingsUrl = 'http://localhost:3000/workspaces/w/sso'

describe('the notices owners get about setup links', () => {
  it('tells the owner who made a setup link what was done through it, and from where', () => {
    const event = createEvent('sso.setup_link.used', {
      workspaceId: randomUUID(),
      workspaceName: 'Acme <Corp>',
      setupLinkId: randomUUID(),
      what: 'test_sign_in',
      ip: '192.0.2.7',
      notify: ['owner@example.test'],
    })
    const email = renderSetupLinkEmail(event, settingsUrl)
    assert.equal(email.subject, 'Your SSO setup link for Acme <Corp> was used')
    assert.match(email.text, /ran a test sign-in through the SSO connection of Acme <Corp> \(from 192\.0\.2\.7\)/)
    assert.match(email.text, /revoke the link/)
    assert.ok(email.html.includes('Acme &#60;Corp&#62;') && !email.html.includes('<Corp>'), 'escaped in HTML')
  })

  it('says an IdP change came through a setup link', () => {
    const event = createEvent('sso.connection.changed', {
      workspaceId: randomUUID(),
      workspaceName: 'Acme',
      connectionId: randomUUID(),
      what: 'idp_configured',
      by: randomUUID(),
      actingSession: { method: 'setup_link' },
      notify: ['owner@example.test'],
    })
    assert.match(
      renderSsoChangeEmail(event, settingsUrl).text,
      /^The holder of a setup link an owner created set which identity provider/,
    )
  })
})
