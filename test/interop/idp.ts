// What the independent-IdP suite needs of each IdP it drives: a real SAML IdP implementation that
// shares no code with samlify or xml-crypto, run by the test on loopback with a configuration the
// test generates into a temporary directory.
import { execFileSync, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Which elements the IdP signs (saml-core §5; Gatehouse needs at least one covering the assertion). */
export type Signing = 'assertion' | 'response' | 'both'

export interface IdpSettings {
  signing: Signing
  /** Which key signs: the first one, or the second one the IdP rolls over to. */
  signingKey: 'current' | 'next'
  /** Whether the IdP metadata also publishes the next key (the rollover overlap). */
  publishNextKey: boolean
  /** Whether the IdP refuses AuthnRequests not signed by a key of the SP metadata it imported. */
  requireSignedRequests: boolean
  /**
   * The NameID: the person's email (format emailAddress), or a transient one (saml-core 8.3.8, the
   * default of many IdPs) with the email only in an attribute.
   */
  nameId: 'email' | 'transient'
  /** RSA with SHA-256 (signature and digest), or the legacy SHA-1 some IdPs still use. */
  hash: 'sha256' | 'sha1'
}

export const defaultSettings: IdpSettings = {
  signing: 'both',
  signingKey: 'current',
  publishNextKey: false,
  requireSignedRequests: false,
  nameId: 'email',
  hash: 'sha256',
}

export interface User {
  email: string
  password: string
  firstName: string
  lastName: string
}

export interface RunningIdp {
  /** e.g. "SimpleSAMLphp 1.19.7". */
  product: string
  entityId: string
  /** The SingleSignOnService URL of the HTTP-Redirect binding: the "Login URL" of the three values. */
  loginUrl: string
  metadataUrl: string
  /** PEM of the key signing now (the "Certificate" of the three values). */
  certificatePem: () => string
  /** The IdP imports Gatehouse's SP metadata (as fetched from /sso/saml/:id/metadata). */
  trustServiceProvider: (metadataXml: string) => void
  addUser: (user: User) => void
  configure: (settings: Partial<IdpSettings>) => void
  /** Where a browser starts an IdP-initiated (unsolicited) sign-in into the SP `spEntityId`. */
  idpInitiatedUrl: (spEntityId: string) => string
  /** The IdP's own log, for failure messages. */
  log: () => string
  stop: () => Promise<void>
}

/** A key pair and a self-signed certificate from openssl (Node's crypto is not what the IdP uses). */
export function generateKeyPair(directory: string, name: string): { keyPath: string; certificatePath: string } {
  const keyPath = join(directory, `${name}.key`)
  const certificatePath = join(directory, `${name}.crt`)
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '30', '-subj', `/CN=${name}`],
      ...['-keyout', keyPath, '-out', certificatePath],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  return { keyPath, certificatePath }
}

/**
 * The file an IdP keeps an SP's metadata in: one per SP entity ID, so that importing the SP's
 * metadata again (say, once it publishes a signing key) replaces what the IdP knew of it.
 */
export function spMetadataFileName(metadataXml: string): string {
  const entityId = /\bentityID="([^"]+)"/.exec(metadataXml)?.[1]
  if (!entityId) throw new Error(`no entityID in the SP metadata:\n${metadataXml.slice(0, 500)}`)
  return `sp-${createHash('sha256').update(entityId).digest('hex').slice(0, 16)}.xml`
}

/** Writes a file the IdP may be reading at this moment: whole or not at all. */
export function writeAtomically(path: string, content: string): void {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, content)
  renameSync(temporary, path)
}

/** The upstream version of an installed Debian package (`2.8.1` of `2.8.1-1+deb12u1`), or null. */
export function packageVersion(name: string): string | null {
  let status: string
  try {
    status = execFileSync('dpkg-query', ['--status', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString()
  } catch {
    return null
  }
  if (!status.includes('Status: install ok installed')) return null
  const version = /^Version: (\S+)$/m.exec(status)?.[1] ?? ''
  return version.replace(/^\d+:/, '').replace(/-[^-]*$/, '')
}

/** Those of these Debian packages that are not installed (all of them where there is no dpkg). */
export function missingPackages(packages: string[]): string[] {
  return packages.filter((name) => packageVersion(name) === null)
}

export interface ServerProcess {
  output: () => string
  stop: () => Promise<void>
}

/** Spawns an IdP's server and resolves once `readyUrl` answers 200 (or rejects with its output). */
export async function startServerProcess(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; readyUrl: string },
): Promise<ServerProcess> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk) => {
      output = (output + chunk).slice(-20_000)
    })
  }
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  }
  // A test that crashes must not leave the IdP holding its port.
  process.once('exit', () => child.kill('SIGKILL'))
  const deadline = Date.now() + 15_000
  while (true) {
    const ready = await fetch(options.readyUrl).then(
      async (response) => {
        await response.body?.cancel()
        return response.status === 200
      },
      () => false,
    )
    if (ready) return { output: () => output, stop }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`${name} did not start (${options.readyUrl}):\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
