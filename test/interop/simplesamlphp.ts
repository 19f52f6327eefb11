// SimpleSAMLphp 1.19 (Debian's package; signs with xmlseclibs) as an IdP, served by PHP's built-in
// server on a loopback port from a configuration directory of this run's own: config.php,
// authsources.php (exampleauth:UserPass), the hosted IdP, and Gatehouse's SP metadata read by
// SimpleSAMLphp's own metadata parser.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
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

const installation = '/usr/share/simplesamlphp'

// php-xml: SimpleSAMLphp builds and signs XML with PHP's DOM, which Debian packages apart.
export const simpleSamlPhpPackages = ['simplesamlphp', 'php-cli', 'php-xml', 'php-mbstring', 'openssl']

export function simpleSamlPhpMissing(): string[] {
  return missingPackages(simpleSamlPhpPackages)
}

// PHP source for a string: var_export-like single quotes.
const php = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`

export async function startSimpleSamlPhp(): Promise<RunningIdp> {
  const directory = temporaryDirectory('gatehouse-simplesamlphp-')
  const root = directory.path
  for (const sub of ['config', 'metadata', 'sp', 'sessions', 'tmp', 'log', 'data']) mkdirSync(join(root, sub))
  const keys = { current: generateKeyPair(root, 'current'), next: generateKeyPair(root, 'next') }
  const port = await sparePort()
  const origin = `http://127.0.0.1:${port}`
  const entityId = `${origin}/saml2/idp/metadata.php`
  const users: User[] = []
  let settings: IdpSettings = { ...defaultSettings }

  writeFileSync(
    join(root, 'config', 'config.php'),
    `<?php
$config = [
  'baseurlpath' => ${php(`${origin}/`)},
  'certdir' => ${php(root)},
  'loggingdir' => ${php(join(root, 'log'))},
  'datadir' => ${php(join(root, 'data'))},
  'tempdir' => ${php(join(root, 'tmp'))},
  'metadatadir' => ${php(join(root, 'metadata'))},
  'attributenamemapdir' => '${installation}/attributemap/',
  'technicalcontact_name' => 'Gatehouse tests',
  'technicalcontact_email' => 'tests@example.test',
  'secretsalt' => ${php(Math.random().toString(36).repeat(3))},
  'auth.adminpassword' => ${php(Math.random().toString(36).repeat(3))},
  'admin.protectindexpage' => true,
  'admin.protectmetadata' => false,
  'enable.saml20-idp' => true,
  'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
  'logging.level' => SimpleSAML\\Logger::DEBUG,
  'logging.handler' => 'file',
  'logging.logfile' => 'simplesamlphp.log',
  'store.type' => 'phpsession',
  'session.cookie.secure' => false,
  'session.phpsession.savepath' => ${php(join(root, 'sessions'))},
  'language.available' => ['en'],
  'language.default' => 'en',
  'debug' => ['saml' => true, 'backtraces' => true, 'validatexml' => false],
  'showerrors' => true,
  'errorreporting' => false,
];
`,
  )
  // Gatehouse's SP metadata, imported the way an SSP administrator's metadata converter does.
  writeFileSync(
    join(root, 'metadata', 'saml20-sp-remote.php'),
    `<?php
foreach (glob(${php(join(root, 'sp'))} . '/*.xml') as $file) {
  foreach (\\SimpleSAML\\Metadata\\SAMLParser::parseDescriptorsFile($file) as $entity) {
    $sp = $entity->getMetadata20SP();
    if ($sp === null) continue;
    // The NameID (email or transient) and which elements get signed are the test's.
    $metadata[$sp['entityid']] = array_merge($sp, require ${php(join(root, 'sp-options.php'))});
  }
}
`,
  )

  const writeUsers = () => {
    const entries = users.map(
      (user) =>
        `  ${php(`${user.email}:${user.password}`)} => ['email' => [${php(user.email)}], 'givenName' => [${php(user.firstName)}], 'sn' => [${php(user.lastName)}]],`,
    )
    writeAtomically(
      join(root, 'config', 'authsources.php'),
      `<?php\n$config = [\n 'admin' => ['core:AdminPassword'],\n 'users' => ['exampleauth:UserPass',\n${entries.join('\n')}\n ],\n];\n`,
    )
  }
  const writeSettings = () => {
    const signing = settings.signingKey === 'current' ? keys.current : keys.next
    const idp = [
      `  'host' => '__DEFAULT__',`,
      `  'auth' => 'users',`,
      `  'privatekey' => ${php(signing.keyPath)},`,
      `  'certificate' => ${php(signing.certificatePath)},`,
      settings.publishNextKey && settings.signingKey === 'current'
        ? `  'new_certificate' => ${php(keys.next.certificatePath)},`
        : '',
      `  'signature.algorithm' => ${php(settings.hash === 'sha1' ? 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' : 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256')},`,
      `  'validate.authnrequest' => ${settings.requireSignedRequests},`,
    ]
    writeAtomically(
      join(root, 'metadata', 'saml20-idp-hosted.php'),
      `<?php\n$metadata[${php(entityId)}] = [\n${idp.filter(Boolean).join('\n')}\n];\n`,
    )
    writeAtomically(
      join(root, 'sp-options.php'),
      `<?php return [
  ${
    settings.nameId === 'email'
      ? `'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  'simplesaml.nameidattribute' => 'email',`
      : `'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',`
  }
  'saml20.sign.assertion' => ${settings.signing !== 'response'},
  'saml20.sign.response' => ${settings.signing !== 'assertion'},
  ${settings.requireSignedRequests ? "'validate.authnrequest' => true," : ''}
];
`,
    )
  }
  writeUsers()
  writeSettings()

  const server = await startServerProcess(
    'SimpleSAMLphp',
    'php',
    ['-d', 'opcache.enable=0', '-d', 'opcache.enable_cli=0', '-S', `127.0.0.1:${port}`, '-t', `${installation}/www`],
    { cwd: root, env: { SIMPLESAMLPHP_CONFIG_DIR: join(root, 'config') }, readyUrl: entityId },
  ).catch((error) => {
    directory.remove()
    throw error
  })
  const log = () => {
    let file = ''
    try {
      file = readFileSync(join(root, 'log', 'simplesamlphp.log'), 'utf8')
    } catch {}
    return `${file.slice(-6000)}\n--- php -S\n${server.output().slice(-3000)}`
  }

  return {
    product: `SimpleSAMLphp ${packageVersion('simplesamlphp')}`,
    entityId,
    loginUrl: `${origin}/saml2/idp/SSOService.php`,
    metadataUrl: entityId,
    certificatePem: () =>
      readFileSync(
        settings.signingKey === 'current' ? keys.current.certificatePath : keys.next.certificatePath,
        'utf8',
      ),
    trustServiceProvider: (metadataXml) =>
      writeAtomically(join(root, 'sp', spMetadataFileName(metadataXml)), metadataXml),
    addUser: (user) => {
      users.push(user)
      writeUsers()
    },
    configure: (changes) => {
      settings = { ...settings, ...changes }
      writeSettings()
    },
    idpInitiatedUrl: (spEntityId) =>
      `${origin}/saml2/idp/SSOService.php?${new URLSearchParams({ spentityid: spEntityId })}`,
    log,
    stop: async () => {
      await server.stop()
      directory.remove()
    },
  }
}
