// Issue 10's independent IdPs: the same journey against each real IdP implementation, through the
// web gateway of real processes (web, auth, invitation), with the IdP driven over HTTP by a
// cookie-keeping client. Each case configures the IdP as an administrator would (its own config
// files, its own metadata) and signs in as the IdP's login page asks.
import assert from 'node:assert/strict'
import { X509Certificate } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { eventually, skipUnlessInstalled, uniqueSuffix } from '@gatehouse/testing'
import { DOMParser, type Element } from '@xmldom/xmldom'
import { confirmAddress } from '../support/account-proof.ts'
import { type Browser, createBrowser, htmlForms, type Page, request } from '../support/http-client.ts'
import { type Stack, startStack } from '../support/stack.ts'
import { defaultSettings, type RunningIdp, type Signing, type User } from './idp.ts'

export interface IdpUnderTest {
  name: string
  /** Debian packages the IdP needs that are not installed. */
  missing: () => string[]
  start: () => Promise<RunningIdp>
  /** Which signing cases the IdP offers (all three unless said). */
  signings?: Signing[]
}

const signings: Record<Signing, { label: string; signed: string[] }> = {
  assertion: { label: 'the assertion signed', signed: ['Assertion'] },
  response: { label: 'the response signed', signed: ['Response'] },
  both: { label: 'both the response and the assertion signed', signed: ['Assertion', 'Response'] },
}

const allSignings = Object.keys(signings) as Signing[]

/** The elements a posted SAMLResponse carries an XML signature for (read here only to prove the case). */
function signedElements(samlResponse: string): string[] {
  const document = new DOMParser().parseFromString(Buffer.from(samlResponse, 'base64').toString('utf8'), 'text/xml')
  const signatures = document.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')
  return Array.from(signatures, (signature) => (signature.parentNode as Element).localName ?? '').sort()
}

const password = 'correct horse battery staple'

/** The names every account signs up with: an IdP's names never replace them (issue 11). */
const accountNames = { firstName: 'Before', lastName: 'Sso' }

/** What these tests read of CONTRACT.md's `{connection}`. */
interface Connection {
  id: string
  status: string
  signAuthnRequests: boolean
  sp: { entityId: string; acsUrl: string }
  idp: {
    ssoUrl: string
    entityId: string
    certificates: { fingerprintSha256: string }[]
    wantAuthnRequestsSigned: boolean
  } | null
}

export function describeIdp(idpUnderTest: IdpUnderTest): void {
  const missing = idpUnderTest.missing()
  const skip = skipUnlessInstalled(
    missing.length > 0 ? `${missing.join(', ')} not installed: apt-get install -y ${missing.join(' ')}` : null,
  )

  describe(`Gatehouse with ${idpUnderTest.name} as the IdP`, { skip, timeout: 180_000 }, () => {
    let stack: Stack
    let idp: RunningIdp
    let owner: { cookie: string }
    let workspaceId: string
    let workspaceName: string
    let connection: Connection
    const suffix = uniqueSuffix()
    const member: User = { email: `bob-${suffix}@example.test`, password, firstName: 'Bob', lastName: 'Builder' }
    const notAccepted: User = { email: `carol-${suffix}@example.test`, password, firstName: 'Carol', lastName: 'C' }

    const diagnostics = () => `--- ${idp?.product} log\n${idp?.log()}\n${stack?.output().slice(-4000)}`

    async function api(path: string, options: Parameters<typeof request>[1] = {}) {
      return request(`${stack.webUrl}${path}`, options)
    }

    async function signUp(user: User) {
      const signedUp = await api('/v1/auth/signup', {
        json: { email: user.email, password: user.password, ...accountNames },
      })
      assert.equal(signedUp.status, 201, JSON.stringify(signedUp.body))
      const cookie = signedUp.cookies.session as string
      await confirmAddress(stack.proof, { userId: signedUp.body.user.id, cookie })
      return cookie
    }

    async function invite(user: User) {
      const invited = await api('/v1/invitations', {
        cookie: owner.cookie,
        json: { workspaceId, email: user.email, role: 'member' },
      })
      assert.equal(invited.status, 201, JSON.stringify(invited.body))
      return new URL(await stack.invitationLink(user.email)).hash.replace('#token=', '')
    }

    async function importIdp(body: Record<string, string>) {
      const imported = await api(`/v1/workspaces/${workspaceId}/sso/idp`, {
        method: 'PUT',
        cookie: owner.cookie,
        json: body,
      })
      assert.equal(imported.status, 200, JSON.stringify(imported.body))
      connection = imported.body.connection
      return connection
    }

    async function importIdpMetadata() {
      const metadata = await fetch(idp.metadataUrl)
      assert.equal(metadata.status, 200)
      return importIdp({ metadataXml: await metadata.text() })
    }

    const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256.toUpperCase()

    /** The IdP's login page, filled in and submitted; returns the page with its auto-submit form. */
    async function logInAtIdp(browser: Browser, loginPage: Page, user: User) {
      assert.equal(new URL(loginPage.url).origin, new URL(idp.loginUrl).origin, `not at the IdP: ${loginPage.url}`)
      const answer = await browser.submitForm(loginPage, 'password', { username: user.email, password: user.password })
      assert.equal(answer.status, 200, `${answer.url}: ${String(answer.body).slice(0, 2000)}\n${diagnostics()}`)
      return answer
    }

    /** Posts the IdP's auto-submit form to Gatehouse's ACS (as its <noscript> button would). */
    async function postToAcs(browser: Browser, withResponse: Page) {
      const acs = await browser.submitForm(withResponse, 'SAMLResponse', {}, { follow: false })
      assert.equal(acs.url, connection.sp.acsUrl)
      const posted = htmlForms(String(withResponse.body)).find((form) => 'SAMLResponse' in form.fields)
      return Object.assign(acs, { signed: signedElements(posted?.fields.SAMLResponse ?? '') })
    }

    /** Gatehouse's redirect to the IdP: the AuthnRequest (and its signature, when signed) in the URL. */
    async function startSpInitiated(browser: Browser) {
      const started = await browser.open(`${stack.webUrl}/sso/saml/${connection.id}/login?returnTo=/home`, {
        follow: false,
      })
      assert.equal(started.status, 302, String(started.body).slice(0, 1000))
      return new URL(String(started.headers.get('location')))
    }

    async function signInSpInitiated(user: User) {
      const browser = createBrowser()
      const requestUrl = await startSpInitiated(browser)
      const responsePage = await logInAtIdp(browser, await browser.open(requestUrl.href), user)
      return { browser, acs: await postToAcs(browser, responsePage), responsePage, requestUrl }
    }

    async function signInIdpInitiated(user: User) {
      const browser = createBrowser()
      const loginPage = await browser.open(idp.idpInitiatedUrl(connection.sp.entityId))
      const responsePage = await logInAtIdp(browser, loginPage, user)
      return { browser, acs: await postToAcs(browser, responsePage), responsePage }
    }

    /**
     * An unsolicited response is not a sign-in yet: the ACS answers with Gatehouse's confirmation
     * page naming the person and the workspace (login CSRF), and only posting its form from that
     * page's origin signs in. Returns the answer to that post.
     */
    async function confirmIdpInitiated({ browser, acs }: { browser: Browser; acs: Page }, user: User) {
      assert.equal(acs.status, 200, `${String(acs.body).slice(0, 1000)}\n${diagnostics()}`)
      assert.equal(acs.cookies.session, undefined, 'signed in before the confirmation')
      assert.ok(
        String(acs.body).includes(`Continue as ${user.email} into ${workspaceName}?`),
        `not the confirmation of ${user.email} into ${workspaceName}:\n${String(acs.body).slice(0, 2000)}`,
      )
      return { browser, acs: await browser.submitForm(acs, 'confirmation', {}, { follow: false }) }
    }

    async function signInIdpInitiatedConfirmed(user: User) {
      return confirmIdpInitiated(await signInIdpInitiated(user), user)
    }

    /** The ACS let `user` in: a redirect to `returnTo` and a session of theirs inside the workspace. */
    async function assertSignedIn({ browser, acs }: { browser: Browser; acs: Page }, user: User, returnTo: string) {
      assert.equal(acs.status, 302, `${String(acs.body).slice(0, 1000)}\n${diagnostics()}`)
      assert.equal(acs.headers.get('location'), returnTo)
      assert.ok(acs.cookies.session, 'no session cookie')
      const session = await browser.open(`${stack.webUrl}/v1/auth/session`, { accept: 'application/json' })
      assert.equal(session.status, 200, JSON.stringify(session.body))
      assert.equal(session.body.user.email, user.email)
      assert.ok(session.body.memberships.some((entry: { workspaceId: string }) => entry.workspaceId === workspaceId))
      // The IdP's givenName/sn name the member in this workspace only; the account keeps its names.
      assert.deepEqual(
        [session.body.user.firstName, session.body.user.lastName],
        [accountNames.firstName, accountNames.lastName],
      )
      const members = await browser.open(`${stack.webUrl}/v1/workspaces/${workspaceId}/members`, {
        accept: 'application/json',
      })
      assert.equal(members.status, 200, JSON.stringify(members.body))
      const inWorkspace = members.body.members.find((entry: { email: string }) => entry.email === user.email)
      assert.deepEqual([inWorkspace?.firstName, inWorkspace?.lastName], [user.firstName, user.lastName])
    }

    before(async () => {
      assert.deepEqual(missing, [], `${idpUnderTest.name} needs: apt-get install -y ${missing.join(' ')}`)
      // Each suite signs its people in more often than the per-minute sign-in limit allows a person.
      stack = await startStack({ devIdp: false, authEnv: { SSO_SIGN_INS_PER_MINUTE: '1000' } })
      try {
        idp = await idpUnderTest.start()
      } catch (error) {
        await stack.stop()
        throw error
      }

      const ownerEmail = `owner-${suffix}@example.test`
      owner = { cookie: await signUp({ email: ownerEmail, password, firstName: '', lastName: '' }) }
      const workspace = await api('/v1/workspaces', { cookie: owner.cookie, json: { name: `Interop ${suffix}` } })
      assert.equal(workspace.status, 201, JSON.stringify(workspace.body))
      workspaceId = workspace.body.workspace.id
      workspaceName = workspace.body.workspace.name
      const turnedOn = await api(`/v1/workspaces/${workspaceId}/sso`, { method: 'POST', cookie: owner.cookie })
      assert.equal(turnedOn.status, 201, JSON.stringify(turnedOn.body))
      connection = turnedOn.body.connection
      const allowed = await api(`/v1/workspaces/${workspaceId}/sso`, {
        method: 'PATCH',
        cookie: owner.cookie,
        json: { allowIdpInitiated: true },
      })
      assert.equal(allowed.status, 200, JSON.stringify(allowed.body))

      // The IdP imports Gatehouse's SP metadata from the URL the SSO page shows.
      const spMetadata = await fetch(`${stack.webUrl}/sso/saml/${connection.id}/metadata`)
      assert.equal(spMetadata.status, 200)
      idp.trustServiceProvider(await spMetadata.text())

      // bob: invited, signed up with a password, accepted; carol: invited and signed up, not accepted.
      for (const user of [member, notAccepted]) idp.addUser(user)
      const [memberToken] = await Promise.all([invite(member), invite(notAccepted)])
      const memberCookie = await signUp(member)
      await signUp(notAccepted)
      const accepted = await api('/v1/invitations/accept', { cookie: memberCookie, json: { token: memberToken } })
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body))
      await eventually(
        'the membership granted by auth',
        async () => {
          const session = await api('/v1/auth/session', { cookie: memberCookie })
          const memberships = session.body.memberships as { workspaceId: string; ssoAllowed: boolean }[]
          return memberships.some((entry) => entry.workspaceId === workspaceId && entry.ssoAllowed) ? true : undefined
        },
        { timeoutMs: 20_000, describe: diagnostics },
      )
    })
    after(async () => {
      await idp?.stop()
      await stack?.stop()
    })

    it('imports the IdP metadata: Login URL, Identifier and signing certificate', async () => {
      idp.configure(defaultSettings)
      const imported = await importIdpMetadata()
      assert.equal(imported.status, 'active')
      assert.equal(imported.idp?.ssoUrl, idp.loginUrl)
      assert.equal(imported.idp?.entityId, idp.entityId)
      assert.deepEqual(
        imported.idp?.certificates.map((certificate) => certificate.fingerprintSha256),
        [fingerprint(idp.certificatePem())],
      )
    })

    for (const signing of idpUnderTest.signings ?? allSignings) {
      const { label, signed } = signings[signing]
      it(`signs in SP-initiated (Gatehouse's AuthnRequest, the IdP's login page) with ${label}`, async () => {
        idp.configure({ ...defaultSettings, signing })
        const signIn = await signInSpInitiated(member)
        assert.deepEqual(signIn.acs.signed, signed)
        await assertSignedIn(signIn, member, '/home')
      })
    }

    for (const signing of idpUnderTest.signings ?? allSignings) {
      const { label, signed } = signings[signing]
      it(`signs in IdP-initiated with ${label}`, async () => {
        idp.configure({ ...defaultSettings, signing })
        const signIn = await signInIdpInitiated(member)
        assert.deepEqual(signIn.acs.signed, signed)
        await assertSignedIn(await confirmIdpInitiated(signIn, member), member, `/workspaces/${workspaceId}`)
      })
    }

    it('refuses someone invited who has not accepted, with 403 sso_not_allowed', async () => {
      idp.configure(defaultSettings)
      const { acs } = await signInSpInitiated(notAccepted)
      assert.equal(acs.status, 403, String(acs.body).slice(0, 1000))
      assert.match(String(acs.body), /data-code="sso_not_allowed"/)
      assert.equal(acs.cookies.session, undefined)
    })

    it('refuses the same response posted a second time, with 409 saml_replayed', async () => {
      idp.configure(defaultSettings)
      const signIn = await signInIdpInitiated(member)
      await assertSignedIn(await confirmIdpInitiated(signIn, member), member, `/workspaces/${workspaceId}`)
      const again = await signIn.browser.submitForm(signIn.responsePage, 'SAMLResponse', {}, { follow: false })
      assert.equal(again.status, 409, String(again.body).slice(0, 1000))
      assert.match(String(again.body), /data-code="saml_replayed"/)
      assert.equal(again.cookies.session, undefined)
    })

    it('takes the email from the mail attribute when the NameID is transient, once the admin says so', async () => {
      idp.configure({ ...defaultSettings, nameId: 'transient' })
      const refused = (await signInIdpInitiated(member)).acs
      assert.equal(refused.status, 400, String(refused.body).slice(0, 1000))
      assert.match(String(refused.body), /nameid_not_email/)

      const setEmailFromAttribute = (emailFromAttribute: boolean) =>
        api(`/v1/workspaces/${workspaceId}/sso`, {
          method: 'PATCH',
          cookie: owner.cookie,
          json: { emailFromAttribute },
        })
      assert.equal((await setEmailFromAttribute(true)).status, 200)
      try {
        await assertSignedIn(await signInIdpInitiatedConfirmed(member), member, `/workspaces/${workspaceId}`)
        await assertSignedIn(await signInSpInitiated(member), member, '/home')
      } finally {
        await setEmailFromAttribute(false)
      }
    })

    it('refuses SHA-1 signatures (weak_algorithm) until the owner allows SHA-1 for the connection', async () => {
      idp.configure({ ...defaultSettings, hash: 'sha1' })
      const refused = (await signInIdpInitiated(member)).acs
      assert.equal(refused.status, 400, String(refused.body).slice(0, 1000))
      assert.match(String(refused.body), /weak_algorithm/)

      const setAllowSha1 = (allowSha1: boolean) =>
        api(`/v1/workspaces/${workspaceId}/sso`, { method: 'PATCH', cookie: owner.cookie, json: { allowSha1 } })
      assert.equal((await setAllowSha1(true)).status, 200)
      try {
        await assertSignedIn(await signInSpInitiated(member), member, '/home')
      } finally {
        await setAllowSha1(false)
      }
    })

    it('imports the three values (Login URL, Identifier, certificate) and signs in with them', async () => {
      idp.configure(defaultSettings)
      await importIdp({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: idp.certificatePem() })
      assert.equal(connection.status, 'active')
      await assertSignedIn(await signInSpInitiated(member), member, '/home')
    })

    it('rolls over to a new signing key that the IdP metadata published beside the old one', async () => {
      const oldCertificate = idp.certificatePem()
      idp.configure({ ...defaultSettings, publishNextKey: true })
      const overlap = await importIdpMetadata()
      const published = overlap.idp?.certificates.map((certificate) => certificate.fingerprintSha256) ?? []
      assert.equal(published.length, 2)
      assert.ok(published.includes(fingerprint(oldCertificate)))
      await assertSignedIn(await signInSpInitiated(member), member, '/home')

      idp.configure({ ...defaultSettings, signingKey: 'next' })
      assert.notEqual(fingerprint(idp.certificatePem()), fingerprint(oldCertificate))
      assert.ok(published.includes(fingerprint(idp.certificatePem())))
      await assertSignedIn(await signInSpInitiated(member), member, '/home')

      // The IdP really signs with the new key now: the old certificate alone no longer verifies it.
      await importIdp({ ssoUrl: idp.loginUrl, entityId: idp.entityId, certificate: oldCertificate })
      const { acs } = await signInIdpInitiated(member)
      assert.equal(acs.status, 400, String(acs.body).slice(0, 1000))
      assert.match(String(acs.body), /signature_invalid/)
    })

    // Issue 10 acceptance 4's independent verifier: the IdP's own code checks Gatehouse's
    // HTTP-Redirect signature (saml-bindings 3.4.4.1) with the key from the SP metadata it imported.
    it('signs AuthnRequests once the IdP metadata asks for it, and the IdP verifies them with the SP metadata key', async () => {
      idp.configure({ ...defaultSettings, requireSignedRequests: true })
      const imported = await importIdpMetadata()
      assert.equal(imported.idp?.wantAuthnRequestsSigned, true)
      assert.equal(imported.signAuthnRequests, true)
      const spMetadata = await (await fetch(`${stack.webUrl}/sso/saml/${connection.id}/metadata`)).text()
      assert.match(spMetadata, /AuthnRequestsSigned="true"/)
      idp.trustServiceProvider(spMetadata)

      const signIn = await signInSpInitiated(member)
      assert.ok(signIn.requestUrl.searchParams.get('Signature'), 'the AuthnRequest was not signed')
      await assertSignedIn(signIn, member, '/home')

      // The IdP does check: the same kind of request without its signature, or with another
      // RelayState than the one signed, gets no login page.
      for (const tamper of [
        (url: URL) => url.searchParams.delete('Signature'),
        (url: URL) => url.searchParams.set('RelayState', 'forged'),
      ]) {
        const browser = createBrowser()
        const requestUrl = await startSpInitiated(browser)
        tamper(requestUrl)
        const refused = await browser.open(requestUrl.href)
        // (SimpleSAMLphp shows its error page with status 200; the others answer 400.)
        const loginForms = htmlForms(String(refused.body)).filter((form) => 'password' in form.fields)
        assert.equal(
          loginForms.length,
          0,
          `the IdP accepted a tampered request:\n${String(refused.body).slice(0, 1000)}`,
        )
      }
    })
  })
}
