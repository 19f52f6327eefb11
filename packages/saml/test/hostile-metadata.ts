// Hostile federation metadata: what an admin (any self-registered user owns a workspace) could
// upload to stall the parser, and the costliest documents the limits still let through to it.
// Exported (package export "./hostile-metadata") for the auth service's fuzz and the benchmark.
import { METADATA_XML_LIMITS } from '../src/xml-document.ts'

export interface MetadataVariant {
  name: string
  metadataXml: string
}

const limits = METADATA_XML_LIMITS
const count = (text: string, needle: string) => text.split(needle).length - 1

/** Puts `inside` just before the IdP descriptor's end, so the rest of the document stays genuine. */
function inside(genuine: string, extra: string): string {
  const at = genuine.lastIndexOf('</IDPSSODescriptor>')
  if (at === -1) throw new Error('the genuine metadata has no IDPSSODescriptor end tag')
  return `${genuine.slice(0, at)}${extra}${genuine.slice(at)}`
}

/** Each one must be refused (`invalid_metadata`) before the parser runs, or right after it. */
export function hostileMetadata(genuine: string): MetadataVariant[] {
  // The shape that held auth for 5-11 s: each element binds a prefix of its own scope.
  const nestedPrefixes = (depth: number) =>
    `${Array.from({ length: depth }, (_, i) => `<p:e xmlns:p="u${i}">`).join('')}${'</p:e>'.repeat(depth)}`
  return [
    {
      name: '27,000 nested elements each declaring a prefix (under 1 MiB)',
      metadataXml: inside(genuine, nestedPrefixes(27_000)),
    },
    { name: 'more elements than the limit allows', metadataXml: inside(genuine, '<e/>'.repeat(limits.markup)) },
    {
      name: 'one element with more attributes than the limit',
      metadataXml: inside(genuine, `<e ${Array.from({ length: limits.attributes }, (_, i) => `a${i}=""`).join(' ')}/>`),
    },
    {
      name: 'more namespace declarations than the limit',
      metadataXml: inside(
        genuine,
        `<e ${Array.from({ length: limits.namespaceDeclarations }, (_, i) => `xmlns:n${i}="urn:n"`).join(' ')}/>`,
      ),
    },
    {
      name: 'a nesting deeper than the limit',
      metadataXml: inside(genuine, `${'<e>'.repeat(limits.depth)}${'</e>'.repeat(limits.depth)}`),
    },
    { name: 'a size over the limit', metadataXml: inside(genuine, `<!--${'x'.repeat(limits.bytes)}-->`) },
    {
      name: 'more signing certificates than anyone needs',
      metadataXml: inside(genuine, genuine.match(/<KeyDescriptor[\s\S]*?<\/KeyDescriptor>/)?.[0].repeat(11) ?? ''),
    },
    {
      name: 'an entity expansion (billion laughs)',
      metadataXml: `<!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>${genuine}`,
    },
  ]
}

/**
 * Documents that pass every limit by a hair, each loading the parser a different way (elements,
 * attributes, nested namespace scopes, entity references): the worst an upload can cost.
 */
export function costliestAllowedMetadata(genuine: string): MetadataVariant[] {
  const spare = (needle: string, limit: number) => limit - count(genuine, needle) - 8
  const roomForBytes = limits.bytes - Buffer.byteLength(genuine) - 64
  const elements = spare('<', limits.markup)
  const attributes = spare('=', limits.attributes)
  const declarations = spare('xmlns', limits.namespaceDeclarations)
  const depth = limits.depth - 8
  const perScope = Math.floor(declarations / depth)
  const scope = (level: number) =>
    `<s${level}:e ${Array.from({ length: perScope }, (_, i) => `xmlns:s${level}${i === 0 ? '' : `x${i}`}="urn:s:${level}:${i}"`).join(' ')}>`
  const scopes = Array.from({ length: depth }, (_, level) => scope(level)).join('')
  const closeScopes = Array.from({ length: depth }, (_, level) => `</s${depth - 1 - level}:e>`).join('')
  const innerElements = elements - 2 * depth
  return [
    { name: 'elements up to the limit', metadataXml: inside(genuine, '<e a="1"/>'.repeat(elements)) },
    {
      name: 'attributes up to the limit, on one element',
      metadataXml: inside(genuine, `<e ${Array.from({ length: attributes }, (_, i) => `a${i}="${i}"`).join(' ')}/>`),
    },
    {
      name: 'namespace declarations up to the limit, nested to the depth limit, with elements inside',
      metadataXml: inside(genuine, `${scopes}${`<s${depth - 1}:e/>`.repeat(innerElements)}${closeScopes}`),
    },
    {
      name: 'entity references up to the size limit',
      metadataXml: inside(genuine, `<e>${'&amp;'.repeat(Math.floor(roomForBytes / 5))}</e>`),
    },
  ]
}
