// The small Python IdPs (python/idp_http.py with a backend: python/pysaml2_idp.py on Debian's
// python3-pysaml2, signing with xmlsec1; python/lasso_idp.py on Debian's python3-lasso, signing
// with libxmlsec1), on a loopback port, configured by a settings file this harness writes into a
// temporary directory and the server re-reads on every request.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sparePort, temporaryDirectory } from '@gatehouse/testing'
import {
  defaultSettings,
  generateKeyPair,
  type IdpSettings,
  missingPackages,
  packageVersion,
  type RunningIdp,
  spMetadataFileName,
  startServerProcess,
  type User,
  writeAtomically,
} from './idp.ts'

// Debian's interpreter, which sees the python3-* packages (a python3 earlier on PATH may not).
const python = '/usr/bin/python3'

interface PythonIdp {
  name: string
  backend: string
  /** The Debian packages it needs; the first one is the IdP implementation itself. */
  packages: [string, ...string[]]
}

export const pysaml2: PythonIdp = {
  name: 'pysaml2',
  backend: 'pysaml2_idp.py',
  packages: ['python3-pysaml2', 'xmlsec1', 'openssl'],
}

export const lasso: PythonIdp = {
  name: 'Lasso',
  backend: 'lasso_idp.py',
  packages: ['python3-lasso', 'openssl'],
}

export async function startPythonIdp(idp: PythonIdp): Promise<RunningIdp> {
  const directory = temporaryDirectory(`gatehouse-${idp.backend.replace('_idp.py', '')}-`)
  const root = directory.path
  const keys = { current: generateKeyPair(root, 'current'), next: generateKeyPair(root, 'next') }
  const port = await sparePort()
  const origin = `http://127.0.0.1:${port}`
  const users: Record<string, Omit<User, 'email'>> = {}
  const spMetadataFiles: string[] = []
  let settings: IdpSettings = { ...defaultSettings }
  const settingsPath = join(root, 'settings.json')
  const write = () =>
    writeAtomically(
      settingsPath,
      JSON.stringify({
        port,
        origin,
        entity_id: `${origin}/metadata`,
        keys: {
          current: { key: keys.current.keyPath, cert: keys.current.certificatePath },
          next: { key: keys.next.keyPath, cert: keys.next.certificatePath },
        },
        sp_metadata_files: spMetadataFiles,
        users,
        signing: settings.signing,
        signing_key: settings.signingKey,
        publish_next_key: settings.publishNextKey,
        require_signed_requests: settings.requireSignedRequests,
        name_id: settings.nameId,
        hash: settings.hash,
      }),
    )
  write()
  const script = new URL(`./python/${idp.backend}`, import.meta.url).pathname
  const server = await startServerProcess(idp.name, python, [script, settingsPath], {
    cwd: root,
    env: { PYTHONDONTWRITEBYTECODE: '1' },
    readyUrl: `${origin}/metadata`,
  }).catch((error) => {
    directory.remove()
    throw error
  })

  return {
    product: `${idp.name} ${packageVersion(idp.packages[0])}`,
    entityId: `${origin}/metadata`,
    loginUrl: `${origin}/sso/redirect`,
    metadataUrl: `${origin}/metadata`,
    certificatePem: () =>
      readFileSync(
        settings.signingKey === 'current' ? keys.current.certificatePath : keys.next.certificatePath,
        'utf8',
      ),
    trustServiceProvider: (metadataXml) => {
      const path = join(root, spMetadataFileName(metadataXml))
      writeAtomically(path, metadataXml)
      if (!spMetadataFiles.includes(path)) spMetadataFiles.push(path)
      write()
    },
    addUser: ({ email, ...user }) => {
      users[email] = user
      write()
    },
    configure: (changes) => {
      settings = { ...settings, ...changes }
      write()
    },
    idpInitiatedUrl: (spEntityId) => `${origin}/sso/unsolicited?${new URLSearchParams({ sp: spEntityId })}`,
    log: () => server.output(),
    stop: async () => {
      await server.stop()
      directory.remove()
    },
  }
}

export const missingFor = (idp: PythonIdp) => () => missingPackages(idp.packages)
