// A strict structural validator for the part of saml-schema-protocol-2.0.xsd,
// saml-schema-assertion-2.0.xsd and xmldsig-core-schema.xsd that a Web SSO Response may use.
// Why our own rather than libxml2 / xmllint: see README.md ("Schema validation"). It is stricter
// than the XSDs where they leave room for signature-wrapping payloads (Advice, Extensions,
// ds:Object, extension statements): those are refused outright.
import type { Document, Element } from '@xmldom/xmldom'
import { SamlError } from './errors.ts'
import {
  CDATA_SECTION_NODE,
  COMMENT_NODE,
  ELEMENT_NODE,
  NS,
  PROCESSING_INSTRUCTION_NODE,
  parseStrictXml,
  TEXT_NODE,
} from './xml-document.ts'

type Name = readonly [namespace: string, localName: string]

interface Particle {
  names: readonly Name[]
  min: number
  max: number
}

type AttributeKind = 'string' | 'id' | 'version' | 'dateTime' | 'uri'

interface ElementRule {
  attributes: Readonly<Record<string, { kind: AttributeKind; required: boolean }>>
  /** xs:anyAttribute namespace="##other" (saml:Attribute) */
  foreignAttributes?: boolean
  /** 'text': simple content; 'opaque': content nobody reads (KeyInfo) but still free of SAML/dsig payloads */
  content: 'empty' | 'text' | 'opaque' | readonly Particle[]
}

const p = NS.protocol
const a = NS.assertion
const ds = NS.dsig
const ec = NS.excC14n
const UNBOUNDED = Number.POSITIVE_INFINITY

function one(namespace: string, localName: string, min = 1, max = 1): Particle {
  return { names: [[namespace, localName]], min, max }
}

function optional(namespace: string, localName: string): Particle {
  return one(namespace, localName, 0, 1)
}

const req = (kind: AttributeKind) => ({ kind, required: true })
const opt = (kind: AttributeKind) => ({ kind, required: false })

const nameIdAttributes = {
  NameQualifier: opt('string'),
  SPNameQualifier: opt('string'),
  Format: opt('uri'),
  SPProvidedID: opt('string'),
}

const RULES: ReadonlyMap<string, ElementRule> = new Map<string, ElementRule>([
  [
    `${p} Response`,
    {
      attributes: {
        ID: req('id'),
        InResponseTo: opt('string'),
        Version: req('version'),
        IssueInstant: req('dateTime'),
        Destination: opt('uri'),
        Consent: opt('uri'),
      },
      content: [
        optional(a, 'Issuer'),
        optional(ds, 'Signature'),
        one(p, 'Status'),
        {
          names: [
            [a, 'Assertion'],
            [a, 'EncryptedAssertion'],
          ],
          min: 0,
          max: UNBOUNDED,
        },
      ],
    },
  ],
  [
    `${p} Status`,
    { attributes: {}, content: [one(p, 'StatusCode'), optional(p, 'StatusMessage'), optional(p, 'StatusDetail')] },
  ],
  [`${p} StatusCode`, { attributes: { Value: req('uri') }, content: [optional(p, 'StatusCode')] }],
  [`${p} StatusMessage`, { attributes: {}, content: 'text' }],
  [`${p} StatusDetail`, { attributes: {}, content: 'opaque' }],
  [`${a} Issuer`, { attributes: nameIdAttributes, content: 'text' }],
  [`${a} EncryptedAssertion`, { attributes: {}, content: 'opaque' }],
  [
    `${a} Assertion`,
    {
      attributes: { ID: req('id'), Version: req('version'), IssueInstant: req('dateTime') },
      content: [
        one(a, 'Issuer'),
        optional(ds, 'Signature'),
        optional(a, 'Subject'),
        optional(a, 'Conditions'),
        {
          names: [
            [a, 'AuthnStatement'],
            [a, 'AttributeStatement'],
          ],
          min: 0,
          max: UNBOUNDED,
        },
      ],
    },
  ],
  [`${a} Subject`, { attributes: {}, content: [optional(a, 'NameID'), one(a, 'SubjectConfirmation', 0, UNBOUNDED)] }],
  [`${a} NameID`, { attributes: nameIdAttributes, content: 'text' }],
  [
    `${a} SubjectConfirmation`,
    { attributes: { Method: req('uri') }, content: [optional(a, 'NameID'), optional(a, 'SubjectConfirmationData')] },
  ],
  [
    `${a} SubjectConfirmationData`,
    {
      attributes: {
        NotBefore: opt('dateTime'),
        NotOnOrAfter: opt('dateTime'),
        Recipient: opt('uri'),
        InResponseTo: opt('string'),
        Address: opt('string'),
      },
      content: 'empty',
    },
  ],
  [
    `${a} Conditions`,
    {
      attributes: { NotBefore: opt('dateTime'), NotOnOrAfter: opt('dateTime') },
      content: [
        {
          names: [
            [a, 'AudienceRestriction'],
            [a, 'OneTimeUse'],
            [a, 'ProxyRestriction'],
          ],
          min: 0,
          max: UNBOUNDED,
        },
      ],
    },
  ],
  [`${a} AudienceRestriction`, { attributes: {}, content: [one(a, 'Audience', 1, UNBOUNDED)] }],
  [`${a} Audience`, { attributes: {}, content: 'text' }],
  [`${a} OneTimeUse`, { attributes: {}, content: 'empty' }],
  [`${a} ProxyRestriction`, { attributes: { Count: opt('string') }, content: [one(a, 'Audience', 0, UNBOUNDED)] }],
  [
    `${a} AuthnStatement`,
    {
      attributes: { AuthnInstant: req('dateTime'), SessionIndex: opt('string'), SessionNotOnOrAfter: opt('dateTime') },
      content: [optional(a, 'SubjectLocality'), one(a, 'AuthnContext')],
    },
  ],
  [`${a} SubjectLocality`, { attributes: { Address: opt('string'), DNSName: opt('string') }, content: 'empty' }],
  [
    `${a} AuthnContext`,
    {
      attributes: {},
      content: [
        optional(a, 'AuthnContextClassRef'),
        optional(a, 'AuthnContextDeclRef'),
        one(a, 'AuthenticatingAuthority', 0, UNBOUNDED),
      ],
    },
  ],
  [`${a} AuthnContextClassRef`, { attributes: {}, content: 'text' }],
  [`${a} AuthnContextDeclRef`, { attributes: {}, content: 'text' }],
  [`${a} AuthenticatingAuthority`, { attributes: {}, content: 'text' }],
  [`${a} AttributeStatement`, { attributes: {}, content: [one(a, 'Attribute', 1, UNBOUNDED)] }],
  [
    `${a} Attribute`,
    {
      attributes: { Name: req('string'), NameFormat: opt('uri'), FriendlyName: opt('string') },
      foreignAttributes: true,
      content: [one(a, 'AttributeValue', 0, UNBOUNDED)],
    },
  ],
  [`${a} AttributeValue`, { attributes: {}, content: 'text' }],
  [
    `${ds} Signature`,
    {
      attributes: { Id: opt('id') },
      content: [one(ds, 'SignedInfo'), one(ds, 'SignatureValue'), optional(ds, 'KeyInfo')],
    },
  ],
  [
    `${ds} SignedInfo`,
    {
      attributes: { Id: opt('id') },
      content: [one(ds, 'CanonicalizationMethod'), one(ds, 'SignatureMethod'), one(ds, 'Reference', 1, UNBOUNDED)],
    },
  ],
  [
    `${ds} CanonicalizationMethod`,
    { attributes: { Algorithm: req('uri') }, content: [optional(ec, 'InclusiveNamespaces')] },
  ],
  // No HMACOutputLength: HMAC "signatures" are refused (CVE-2009-0217 truncation).
  [`${ds} SignatureMethod`, { attributes: { Algorithm: req('uri') }, content: 'empty' }],
  [
    `${ds} Reference`,
    {
      attributes: { Id: opt('id'), URI: opt('string'), Type: opt('uri') },
      content: [optional(ds, 'Transforms'), one(ds, 'DigestMethod'), one(ds, 'DigestValue')],
    },
  ],
  [`${ds} Transforms`, { attributes: {}, content: [one(ds, 'Transform', 1, UNBOUNDED)] }],
  [`${ds} Transform`, { attributes: { Algorithm: req('uri') }, content: [optional(ec, 'InclusiveNamespaces')] }],
  [`${ec} InclusiveNamespaces`, { attributes: { PrefixList: opt('string') }, content: 'empty' }],
  [`${ds} DigestMethod`, { attributes: { Algorithm: req('uri') }, content: 'empty' }],
  [`${ds} DigestValue`, { attributes: {}, content: 'text' }],
  [`${ds} SignatureValue`, { attributes: { Id: opt('id') }, content: 'text' }],
  [`${ds} KeyInfo`, { attributes: { Id: opt('id') }, content: 'opaque' }],
])

// xs:ID is an NCName (XML Namespaces 1.0), which rules out the XPath and URI tricks of XSW variants.
const NC_NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/
// saml-core 1.3.3: "All SAML time values ... MUST be expressed in UTC form, with no time zone component."
const UTC_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/
const MAX_DEPTH = 32

function invalid(message: string): SamlError {
  return new SamlError('schema_invalid', `The SAML response is not schema-valid: ${message}`)
}

function ruleKey(element: Element): string {
  return `${element.namespaceURI ?? ''} ${element.localName}`
}

function displayName(element: Element): string {
  return element.localName ?? element.nodeName
}

function checkAttributes(element: Element, rule: ElementRule): void {
  const attributes = element.attributes
  for (let index = 0; index < attributes.length; index++) {
    const attribute = attributes.item(index)
    if (attribute === null) continue
    const name = attribute.name
    if (name === 'xmlns' || attribute.prefix === 'xmlns') continue
    const namespace = attribute.namespaceURI
    if (namespace !== null && namespace !== '') {
      const isTypeOnValue = namespace === NS.xsi && element.localName === 'AttributeValue'
      const isForeign = rule.foreignAttributes === true && namespace !== NS.assertion
      if (isTypeOnValue || isForeign) continue
      throw invalid(`unexpected attribute ${name} on ${displayName(element)}`)
    }
    const declared = rule.attributes[name]
    if (declared === undefined) throw invalid(`unexpected attribute ${name} on ${displayName(element)}`)
    const value = attribute.value
    if (declared.kind === 'id' && !NC_NAME.test(value)) throw invalid(`${displayName(element)} ${name} is not an xs:ID`)
    if (declared.kind === 'version' && value !== '2.0') throw invalid(`${displayName(element)} Version must be 2.0`)
    if (declared.kind === 'dateTime' && (!UTC_DATE_TIME.test(value) || Number.isNaN(Date.parse(value)))) {
      throw invalid(`${displayName(element)} ${name} is not a UTC date-time`)
    }
    if (declared.kind === 'uri' && value.length === 0) throw invalid(`${displayName(element)} ${name} is empty`)
  }
  for (const [name, declared] of Object.entries(rule.attributes)) {
    if (declared.required && !element.hasAttribute(name)) {
      throw invalid(`${displayName(element)} lacks its ${name} attribute`)
    }
  }
}

function checkTextContent(element: Element): void {
  for (let child = element.firstChild; child !== null; child = child.nextSibling) {
    const type = child.nodeType
    if (type === TEXT_NODE || type === CDATA_SECTION_NODE || type === COMMENT_NODE) continue
    throw invalid(`${displayName(element)} must hold text only`)
  }
}

function checkOpaqueContent(element: Element, depth: number): void {
  if (depth > MAX_DEPTH) throw invalid('the document is nested too deeply')
  for (let child = element.firstChild; child !== null; child = child.nextSibling) {
    if (child.nodeType === PROCESSING_INSTRUCTION_NODE) throw invalid('processing instructions are not allowed')
    if (child.nodeType !== ELEMENT_NODE) continue
    const childElement = child as Element
    // Nothing that could be mistaken for signed content may hide where nobody validates.
    if (childElement.namespaceURI === NS.assertion || childElement.namespaceURI === NS.protocol) {
      throw invalid(`${displayName(childElement)} is not allowed inside ${displayName(element)}`)
    }
    if (childElement.namespaceURI === NS.dsig && childElement.localName === 'Signature') {
      throw invalid(`a Signature is not allowed inside ${displayName(element)}`)
    }
    checkOpaqueContent(childElement, depth + 1)
  }
}

function checkChildren(element: Element, particles: readonly Particle[], depth: number): void {
  let particleIndex = 0
  let count = 0
  for (let child = element.firstChild; child !== null; child = child.nextSibling) {
    const type = child.nodeType
    if (type === COMMENT_NODE) continue
    if (type === TEXT_NODE || type === CDATA_SECTION_NODE) {
      if (/\S/.test(child.nodeValue ?? '')) throw invalid(`unexpected text inside ${displayName(element)}`)
      continue
    }
    if (type !== ELEMENT_NODE) throw invalid(`unexpected node inside ${displayName(element)}`)
    const childElement = child as Element
    for (;;) {
      const particle = particles[particleIndex]
      if (particle === undefined) {
        throw invalid(`unexpected element ${displayName(childElement)} inside ${displayName(element)}`)
      }
      const matches = particle.names.some(
        ([namespace, localName]) => childElement.localName === localName && childElement.namespaceURI === namespace,
      )
      if (matches && count < particle.max) {
        count++
        break
      }
      if (count < particle.min) {
        const expected = particle.names.map(([, localName]) => localName).join(' or ')
        throw invalid(
          `unexpected element ${displayName(childElement)} inside ${displayName(element)} where ${expected} belongs`,
        )
      }
      particleIndex++
      count = 0
    }
    checkElement(childElement, depth + 1)
  }
  for (; particleIndex < particles.length; particleIndex++, count = 0) {
    const particle = particles[particleIndex]
    if (particle !== undefined && count < particle.min) {
      throw invalid(`${displayName(element)} lacks ${particle.names.map(([, localName]) => localName).join(' or ')}`)
    }
  }
}

function checkElement(element: Element, depth: number): void {
  if (depth > MAX_DEPTH) throw invalid('the document is nested too deeply')
  const rule = RULES.get(ruleKey(element))
  if (rule === undefined) throw invalid(`unexpected element ${displayName(element)}`)
  checkAttributes(element, rule)
  if (rule.content === 'text') checkTextContent(element)
  else if (rule.content === 'opaque') checkOpaqueContent(element, depth)
  else if (rule.content === 'empty') checkChildren(element, [], depth)
  else checkChildren(element, rule.content, depth)
}

/** Throws SamlError('schema_invalid') unless the document is a Response of the allowed shape. */
export function validateResponseSchema(document: Document): Element {
  const root = document.documentElement
  if (root === null || root.localName !== 'Response' || root.namespaceURI !== NS.protocol) {
    throw invalid('the root element is not a SAML protocol Response')
  }
  for (let node = document.firstChild; node !== null; node = node.nextSibling) {
    if (node.nodeType === PROCESSING_INSTRUCTION_NODE && node.nodeName.toLowerCase() !== 'xml') {
      throw invalid('processing instructions are not allowed')
    }
  }
  checkElement(root, 0)
  return root
}

/**
 * The same validator in the shape samlify's `setSchemaValidator` expects, so a benchmark of
 * samlify's own pipeline runs exactly the schema rules this package runs.
 */
export const samlifySchemaValidator = {
  async validate(xml: string): Promise<string> {
    validateResponseSchema(parseStrictXml(xml))
    return 'SUCCESS_VALIDATE_XML'
  },
}
