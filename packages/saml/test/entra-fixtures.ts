// The real Entra responses of test/fixtures/entra (copied byte for byte from the shared fixtures), with the SP settings of the apps that received
// them (that folder's README is the source of every value here).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const fixturesDirectory = fileURLToPath(new URL('../../../test/fixtures/entra/', import.meta.url))

export function fixtureText(name: string): string {
  return readFileSync(`${fixturesDirectory}${name}`, 'utf8')
}

/** The response as the browser posts it: Base64 of the exact bytes. */
export function fixtureBase64(name: string): string {
  if (name.endsWith('.b64')) return fixtureText(name).trim()
  return readFileSync(`${fixturesDirectory}${name}`).toString('base64')
}

export interface EntraFixture {
  response: string
  certificate: string
  issuer: string
  audience: string
  acsUrl: string
  inResponseTo: string | null
  issueInstant: string
  /** The earliest NotOnOrAfter (bearer confirmation or Conditions): the end of its window. */
  notOnOrAfter: string
  email: string | null
}

export const entraFixtures: Record<string, EntraFixture> = {
  ssoready: {
    response: 'ssoready-2023-idp-initiated.response.xml',
    certificate: 'ssoready-2023.cert.pem',
    issuer: 'https://sts.windows.net/a9054a0f-2011-4e31-b3ac-fd8c354146ec/',
    audience: 'http://localhost:8080/accounts/8155d0cc-d51b-461a-a062-821b6bd574b1/saml',
    acsUrl: 'http://localhost:8080/accounts/8155d0cc-d51b-461a-a062-821b6bd574b1/saml/acs',
    inResponseTo: null,
    issueInstant: '2023-11-17T18:39:30.314Z',
    notOnOrAfter: '2023-11-17T19:39:29.840Z',
    email: 'ulysse.carion_codomaindata.com#ext#@ulyssecarioncodomaindata.onmicrosoft.com',
  },
  tercen: {
    response: 'tercen-2022-sp-initiated.response.xml',
    certificate: 'tercen-2022.cert.pem',
    issuer: 'https://sts.windows.net/5b5c94c6-14cf-42da-85bc-4e08722b253b/',
    audience: 'https://devpg.tercen.com/_service/sso/auth/saml',
    acsUrl: 'https://devpg.tercen.com/_service/sso/auth/saml',
    inResponseTo: 'id6491e192-e2d9-4970-ab03-e38ffda6e033',
    issueInstant: '2022-02-23T17:49:18.872Z',
    notOnOrAfter: '2022-02-23T18:49:18.779Z',
    email: 'test@alexandremaurelgmail.onmicrosoft.com',
  },
  badgrA: {
    response: 'badgr-2021-a-sp-initiated.response.b64',
    certificate: 'badgr-2021.cert.pem',
    issuer: 'https://sts.windows.net/2f277f1e-e5f1-4f62-b595-79c2d13afda4/',
    audience: 'https://api.test.badgr.com/account/saml2/saml2.egcc/acs/',
    acsUrl: 'https://api.test.badgr.com/account/saml2/saml2.egcc/acs/',
    inResponseTo: 'id-Sg9sVh45fFtIDZBRZ',
    issueInstant: '2021-04-09T13:06:39.088Z',
    notOnOrAfter: '2021-04-09T14:06:38.878Z',
    email: 'sdent1234@student.egcc.edu',
  },
  badgrB: {
    response: 'badgr-2021-b-sp-initiated.response.xml',
    certificate: 'badgr-2021.cert.pem',
    issuer: 'https://sts.windows.net/2f277f1e-e5f1-4f62-b595-79c2d13afda4/',
    audience: 'https://api.test.badgr.com/account/saml2/saml2.egcc/acs/',
    acsUrl: 'https://api.test.badgr.com/account/saml2/saml2.egcc/acs/',
    inResponseTo: 'id-dxvhOj4HsG9rlVDVx',
    issueInstant: '2021-04-09T12:53:30.562Z',
    notOnOrAfter: '2021-04-09T13:53:30.402Z',
    email: 'sdent1234@student.egcc.edu',
  },
  socialflow: {
    response: 'socialflow-2015-persistent-nameid.response.xml',
    certificate: 'socialflow-2015.cert.pem',
    issuer: 'https://sts.windows.net/acb72633-aa5b-4728-893c-8566381b4d2b/',
    audience: 'https://sso.dev.saturn.sfsrv.net',
    acsUrl: 'https://sso.dev.saturn.sfsrv.net/extauth/response/azure',
    inResponseTo: 'SF_b7da462a1472d80a7ee4e9751e542940',
    issueInstant: '2015-05-22T17:19:18.637Z',
    notOnOrAfter: '2015-05-22T17:24:18.606Z',
    email: null,
  },
}
