// An independent check of an HTTP-Redirect binding signature (saml-bindings 3.4.4.1): OpenSSL,
// not the code that signed, verifies the exact octets of the query with the public key of a
// certificate. What an IdP does with a signed AuthnRequest, without sharing a line with the SP.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const openssl = '/usr/bin/openssl'
const systemPython = '/usr/bin/python3'
const lassoModule = '/usr/lib/python3/dist-packages/lasso.py'
const lassoScript = new URL('../lasso/verify-authn-request.py', import.meta.url).pathname

/** Null when OpenSSL is installed; otherwise one line saying what to install. */
export function opensslMissing(): string | null {
  return existsSync(openssl)
    ? null
    : `verifying redirect-binding signatures needs ${openssl}: apt-get install -y openssl`
}

export interface RedirectSignatureCheck {
  /** `SAMLRequest=…[&RelayState=…]&SigAlg=…`: the octets the signature must cover, as sent. */
  signedOctets: string
  sigAlg: string
  /** OpenSSL's own verdict ("Verified OK" on success). */
  opensslOutput: string
  verified: boolean
}

/**
 * Takes the parameters from the URL's raw query exactly as the SP encoded them (a verifier must
 * not re-encode: saml-bindings 3.4.4.1), and verifies `Signature` with `openssl dgst -sha256 -verify`
 * and the public key of `certificateBase64` (a metadata X509Certificate's content).
 */
export function verifyRedirectSignature(redirectUrl: string, certificateBase64: string): RedirectSignatureCheck {
  const rawParameters = new Map(
    new URL(redirectUrl).search
      .slice(1)
      .split('&')
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair] as const),
  )
  const signedOctets = ['SAMLRequest', 'RelayState', 'SigAlg']
    .map((name) => rawParameters.get(name))
    .filter((pair): pair is string => pair !== undefined)
    .join('&')
  const sigAlg = decodeURIComponent(rawParameters.get('SigAlg')?.slice('SigAlg='.length) ?? '')
  const signature = Buffer.from(
    decodeURIComponent(rawParameters.get('Signature')?.slice('Signature='.length) ?? ''),
    'base64',
  )
  const directory = mkdtempSync(join(tmpdir(), 'gatehouse-redirect-signature-'))
  try {
    const file = (name: string, content: string | Buffer) => {
      const path = join(directory, name)
      writeFileSync(path, content)
      return path
    }
    const body =
      certificateBase64
        .replace(/\s+/g, '')
        .match(/.{1,64}/g)
        ?.join('\n') ?? ''
    const certificate = file('certificate.pem', `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`)
    const publicKey = spawnSync(openssl, ['x509', '-in', certificate, '-noout', '-pubkey'], { encoding: 'utf8' })
    if (publicKey.status !== 0) throw new Error(`openssl x509 failed: ${publicKey.stderr}`)
    const run = spawnSync(
      openssl,
      [
        'dgst',
        '-sha256',
        '-verify',
        file('public.pem', publicKey.stdout),
        '-signature',
        file('signature.bin', signature),
        file('signed.txt', signedOctets),
      ],
      { encoding: 'utf8' },
    )
    const opensslOutput = `${run.stdout}${run.stderr}`.trim()
    return { signedOctets, sigAlg, opensslOutput, verified: run.status === 0 && opensslOutput === 'Verified OK' }
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

/** Null when Debian's Lasso Python binding is installed; otherwise one line saying what to install. */
export function lassoMissing(): string | null {
  return existsSync(systemPython) && existsSync(lassoModule)
    ? null
    : `checking AuthnRequests with Lasso needs ${lassoModule}: apt-get install -y python3-lasso`
}

/**
 * Lasso as the IdP, given its own metadata and key and the SP's metadata, processes the redirect
 * URL's query as an IdP's SSO endpoint would: with a signature required, it verifies it against the
 * signing keys in the SP metadata (libxmlsec1, sharing no code with the SP).
 */
export function lassoAcceptsAuthnRequest(input: {
  idpMetadataXml: string
  idpKeyPem: string
  idpCertificatePem: string
  spMetadataXml: string
  redirectUrl: string
}): { accepted: boolean; issuer: string | null; error: string | null } {
  const run = spawnSync(systemPython, [lassoScript], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: '/usr/bin:/bin' },
  })
  if (run.status !== 0) throw new Error(`lasso check failed (status ${run.status}): ${run.stderr.slice(0, 1000)}`)
  return JSON.parse(run.stdout)
}
