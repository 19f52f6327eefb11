// Validation against the official OASIS SAML 2.0 XSDs with libxml2's `xmllint`, as Debian ships
// them: the same grammar Entra and the independent IdPs hold a request to. A child process keeps
// libxml2 out of this process; the input and the time it may take are bounded.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export type SamlSchema = 'protocol' | 'metadata'

const schemaFiles: Record<SamlSchema, string> = {
  protocol: '/usr/share/xml/opensaml/saml-schema-protocol-2.0.xsd',
  metadata: '/usr/share/xml/opensaml/saml-schema-metadata-2.0.xsd',
}
const importedSchemas = '/usr/share/xml/xmltooling/xmldsig-core-schema.xsd'
const catalog = new URL('../schemas/catalog.xml', import.meta.url).pathname
const xmllint = '/usr/bin/xmllint'
const maxDocumentBytes = 1024 * 1024
const timeoutMs = 10_000

export const samlSchemaInstallCommand = 'apt-get install -y libxml2-utils opensaml-schemas xmltooling-schemas'

/** Null when xmllint and the schemas are installed; otherwise one line saying what to install. */
export function samlSchemaToolMissing(): string | null {
  const missing = [xmllint, schemaFiles.protocol, schemaFiles.metadata, importedSchemas].filter(
    (path) => !existsSync(path),
  )
  return missing.length === 0 ? null : `SAML schema validation needs ${missing.join(', ')}: ${samlSchemaInstallCommand}`
}

export type SchemaVerdict = { valid: true } | { valid: false; errors: string[] }

/** Throws when the tool is missing or fails to run; a document that does not validate is a verdict. */
export function validateAgainstSamlSchema(xml: string, schema: SamlSchema): SchemaVerdict {
  const missing = samlSchemaToolMissing()
  if (missing) throw new Error(missing)
  if (Buffer.byteLength(xml) > maxDocumentBytes) return { valid: false, errors: ['the document is over 1 MiB'] }
  const run = spawnSync(xmllint, ['--nonet', '--noout', '--schema', schemaFiles[schema], '-'], {
    input: xml,
    env: { XML_CATALOG_FILES: catalog },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 256 * 1024,
  })
  if (run.error) throw new Error(`xmllint did not run: ${run.error.message}`)
  // xmllint: 0 valid, 1-2 not well-formed, 3-4 invalid; anything else is the tool failing.
  if (run.status === 0) return { valid: true }
  if (run.status !== null && run.status >= 1 && run.status <= 4) {
    return { valid: false, errors: schemaErrors(run.stderr) }
  }
  throw new Error(`xmllint failed (status ${run.status}, signal ${run.signal}): ${run.stderr.slice(0, 500)}`)
}

// Only the errors about the document: the schema parser's notes about imports it skips are noise.
function schemaErrors(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('-:'))
    .map((line) => line.replace(/^-:\d+: /, ''))
    .slice(0, 20)
}
