// The one way this package turns text into a DOM: strict, DTD-free, and failing on anything the
// parser merely warns about, so no "best effort" recovery ever decides what a signature covers.
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom'
import { SamlError } from './errors.ts'

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
  excC14n: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  xmlenc: 'http://www.w3.org/2001/04/xmlenc#',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xmlns: 'http://www.w3.org/2000/xmlns/',
} as const

export const ELEMENT_NODE = 1
export const TEXT_NODE = 3
export const CDATA_SECTION_NODE = 4
export const PROCESSING_INSTRUCTION_NODE = 7
export const COMMENT_NODE = 8
export const DOCUMENT_TYPE_NODE = 10

class XmlParseFailure extends Error {}

const parser = new DOMParser({
  onError(level, message) {
    throw new XmlParseFailure(`${level}: ${message}`)
  },
})

// XML 1.0 section 2.8: a DOCTYPE may declare entities (billion laughs, XXE). SAML never needs one
// (SAML bindings 3.5.5.2 / saml-core 1.3), so the raw text is refused before any parser sees it.
const DTD_MARKERS = /<!(DOCTYPE|ENTITY|ELEMENT|ATTLIST|NOTATION)/i

/** What one kind of XML input may hold before and right after parsing; see the README's table. */
export interface XmlLimits {
  /** Names the document in refusals, e.g. "The SAML response". */
  document: string
  /** UTF-8 bytes of the text. */
  bytes: number
  /** `<` characters: every start tag, end tag, comment, CDATA section and processing instruction. */
  markup: number
  /** `=` characters: every attribute (and namespace declaration) has one. */
  attributes: number
  /** Occurrences of `xmlns` anywhere in the text. */
  namespaceDeclarations: number
  /** Element nesting, the root being depth 1. */
  depth: number
}

/** A posted SAML response (Entra's carry a few hundred elements; a groups claim has at most 150 values). */
export const RESPONSE_XML_LIMITS: XmlLimits = {
  document: 'The SAML response',
  bytes: 256 * 1024,
  markup: 2_000,
  attributes: 4_000,
  namespaceDeclarations: 200,
  depth: 32,
}

/** Uploaded federation metadata (Entra's is 15-20 KiB with ~220 elements and ~35 namespace declarations). */
export const METADATA_XML_LIMITS: XmlLimits = {
  document: 'The metadata',
  bytes: 256 * 1024,
  markup: 3_000,
  attributes: 4_000,
  namespaceDeclarations: 200,
  depth: 32,
}

function occurrences(text: string, needle: string): number {
  let count = 0
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count++
  return count
}

function deeperThan(root: Element, limit: number): boolean {
  const pending: Array<[Element, number]> = [[root, 1]]
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [element, depth] = next
    if (depth > limit) return true
    for (let child = element.firstChild; child !== null; child = child.nextSibling) {
      if (isElement(child)) pending.push([child, depth + 1])
    }
  }
  return false
}

/**
 * The one way untrusted XML becomes a DOM. A parser's cost grows with elements and namespace
 * declarations, not bytes: 27,000 nested elements each declaring a prefix fit in 1 MiB and hold
 * xmldom for seconds, and an element's attributes are kept in a list searched on every insert
 * (quadratic). So size, markup, attributes and declarations are counted on the raw text before any
 * parser runs, which bounds the parse; depth is checked on the result before anyone walks it.
 */
export function parseBoundedXml(text: string, limits: XmlLimits): Document {
  if (Buffer.byteLength(text) > limits.bytes) {
    throw new SamlError('too_large', `${limits.document} is larger than ${limits.bytes / 1024} KiB and was not read.`)
  }
  if (
    occurrences(text, '<') > limits.markup ||
    occurrences(text, '=') > limits.attributes ||
    occurrences(text, 'xmlns') > limits.namespaceDeclarations
  ) {
    throw new SamlError(
      'too_large',
      `${limits.document} has far more elements, attributes or namespace declarations than it needs and was not read.`,
    )
  }
  const document = parseStrictXml(text)
  if (document.documentElement !== null && deeperThan(document.documentElement, limits.depth)) {
    throw new SamlError('too_large', `${limits.document} is nested more than ${limits.depth} elements deep.`)
  }
  return document
}

/** Parses text already bounded by `parseBoundedXml`'s checks, or produced by this product itself. */
export function parseStrictXml(text: string): Document {
  if (DTD_MARKERS.test(text)) {
    throw new SamlError('dtd_forbidden', 'The SAML message contains a DOCTYPE or entity declaration, which is refused.')
  }
  let document: Document
  try {
    document = parser.parseFromString(text, 'text/xml')
  } catch {
    throw new SamlError('malformed_xml', 'The SAML message is not well-formed XML.')
  }
  for (let child = document.firstChild; child !== null; child = child.nextSibling) {
    if (child.nodeType === DOCUMENT_TYPE_NODE) {
      throw new SamlError('dtd_forbidden', 'The SAML message contains a DOCTYPE, which is refused.')
    }
  }
  if (document.documentElement === null) {
    throw new SamlError('malformed_xml', 'The SAML message has no root element.')
  }
  return document
}

export function isElement(node: Node | null): node is Element {
  return node !== null && node.nodeType === ELEMENT_NODE
}

export function childElements(element: Element): Element[] {
  const children: Element[] = []
  for (let child = element.firstChild; child !== null; child = child.nextSibling) {
    if (isElement(child)) children.push(child)
  }
  return children
}

export function isNamed(element: Element, namespace: string, localName: string): boolean {
  return element.localName === localName && element.namespaceURI === namespace
}

export function childrenNamed(element: Element, namespace: string, localName: string): Element[] {
  return childElements(element).filter((child) => isNamed(child, namespace, localName))
}

export function firstChildNamed(element: Element, namespace: string, localName: string): Element | null {
  for (let child = element.firstChild; child !== null; child = child.nextSibling) {
    if (isElement(child) && isNamed(child, namespace, localName)) return child
  }
  return null
}

/**
 * The text of an element that must hold exactly one text node (or none). Any comment, CDATA,
 * processing instruction or element inside returns null: CVE-2017-11428 (and its siblings in
 * ruby-saml, python-saml, OneLogin) came from reading only the first text node of
 * `user@corp.com<!---->.evil.com`, which the IdP signed whole.
 */
export function soleText(element: Element): string | null {
  const first = element.firstChild
  if (first === null) return ''
  if (first.nextSibling !== null || first.nodeType !== TEXT_NODE) return null
  return first.nodeValue ?? ''
}

export function attributeOrNull(element: Element, name: string): string | null {
  return element.hasAttribute(name) ? element.getAttribute(name) : null
}
