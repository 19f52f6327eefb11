import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createEvent, destinations, eventTypes, InvalidEventError, parseEvent } from '../src/index.ts'
import { invitationAccepted, loginFailed } from './fixtures/sample-events.ts'

function assertInvalid(value: unknown, message: RegExp) {
  assert.throws(
    () => parseEvent(value),
    (error: unknown) =>
      error instanceof InvalidEventError && error.code === 'invalid_event' && message.test(error.message),
  )
}

describe('event schemas', () => {
  it('createEvent gives an event a UUID, its type and an ISO timestamp around the payload', () => {
    const now = new Date('2026-01-02T03:04:05.678Z')
    const event = createEvent(
      'auth.logout',
      { userId: '6f1c2a57-3c1e-4b8a-9d0e-2f3a4b5c6d7e', sessionId: 's-1', method: 'password' },
      now,
    )
    assert.match(event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(event.type, 'auth.logout')
    assert.equal(event.occurredAt, '2026-01-02T03:04:05.678Z')
    assert.equal(event.sessionId, 's-1')
    assert.notEqual(
      createEvent('auth.logout', { userId: event.userId, sessionId: 's-1', method: 'password' }).id,
      event.id,
    )
  })

  it('parseEvent returns a valid event as it is, JSON round trip included', () => {
    const event = invitationAccepted()
    assert.deepEqual(parseEvent(JSON.parse(JSON.stringify(event))), event)
    assert.deepEqual(parseEvent(loginFailed()).type, 'auth.login.failed')
  })

  it('parseEvent rejects garbage with invalid_event', () => {
    assertInvalid(null, /JSON object/)
    assertInvalid('auth.logout', /JSON object/)
    assertInvalid([], /JSON object/)
    assertInvalid({}, /unknown event type/)
    assertInvalid({ ...loginFailed(), type: 'auth.login.hacked' }, /unknown event type/)
    assertInvalid({ ...loginFailed(), id: 'not-a-uuid' }, /malformed auth.login.failed/)
    assertInvalid({ ...loginFailed(), occurredAt: 'yesterday' }, /malformed/)
    assertInvalid({ ...loginFailed(), method: 'magic-link' }, /malformed/)
    assertInvalid({ ...invitationAccepted(), role: 'owner' }, /malformed invitation.accepted/)
    const { userId: _dropped, ...withoutUser } = invitationAccepted()
    assertInvalid(withoutUser, /malformed/)
  })

  it('says where a malformed event breaks its schema', () => {
    try {
      parseEvent({ ...invitationAccepted(), workspaceId: 42 })
      assert.fail('parseEvent accepted a numeric workspaceId')
    } catch (error) {
      assert.ok(error instanceof InvalidEventError)
      assert.ok(error.problems.some((problem) => problem.path === '/workspaceId'))
    }
  })

  it('createEvent refuses a payload its schema refuses', () => {
    assert.throws(
      () =>
        createEvent('invitation.created', {
          invitationId: 'x',
          workspaceId: '6f1c2a57-3c1e-4b8a-9d0e-2f3a4b5c6d7e',
          email: 'a@b.test',
        }),
      InvalidEventError,
    )
  })

  it('routes invitation events to the queue and auth events to the fan-out stream', () => {
    for (const type of eventTypes) {
      const expected = type.startsWith('invitation.')
        ? { kind: 'queue', name: 'invitation-events' }
        : { kind: 'stream', name: 'auth-events' }
      assert.deepEqual(destinations[type], expected, type)
    }
  })
})
