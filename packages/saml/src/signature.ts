// Enveloped XML signature verification (xmldsig-core 3.2) reduced to what SAML needs, done on the
// DOM that was parsed once: exclusive c14n from xml-crypto, digests and RSA/ECDSA from node:crypto,
// against the KeyObjects of the configured certificates only. KeyInfo in the message is never read:
// trusting it is how "attacker certificate in KeyInfo" attacks succeed.
import { createHash, timingSafeEqual, verify as verifySignatureValue } from 'node:crypto'
import type { Element } from '@xmldom/xmldom'
import { ExclusiveCanonicalization } from 'xml-crypto'
import type { VerificationKey } from './certificates.ts'
import { SamlError } from './errors.ts'
import { attributeOrNull, childElements, firstChildNamed, NS, soleText } from './xml-document.ts'

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#'
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature'

interface SignatureAlgorithm {
  hash: string
  keyType: 'rsa' | 'ec'
  weak: boolean
}

const SIGNATURE_ALGORITHMS: ReadonlyMap<string, SignatureAlgorithm> = new Map([
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', { hash: 'sha256', keyType: 'rsa', weak: false }],
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha384', { hash: 'sha384', keyType: 'rsa', weak: false }],
  ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha512', { hash: 'sha512', keyType: 'rsa', weak: false }],
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256', { hash: 'sha256', keyType: 'ec', weak: false }],
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384', { hash: 'sha384', keyType: 'ec', weak: false }],
  ['http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512', { hash: 'sha512', keyType: 'ec', weak: false }],
  ['http://www.w3.org/2000/09/xmldsig#rsa-sha1', { hash: 'sha1', keyType: 'rsa', weak: true }],
] as const)

const DIGEST_ALGORITHMS: ReadonlyMap<string, { hash: string; weak: boolean }> = new Map([
  ['http://www.w3.org/2001/04/xmlenc#sha256', { hash: 'sha256', weak: false }],
  ['http://www.w3.org/2001/04/xmldsig-more#sha384', { hash: 'sha384', weak: false }],
  ['http://www.w3.org/2001/04/xmlenc#sha512', { hash: 'sha512', weak: false }],
  ['http://www.w3.org/2000/09/xmldsig#sha1', { hash: 'sha1', weak: true }],
])

const canonicalizer = new ExclusiveCanonicalization()

function signatureInvalid(message: string): SamlError {
  return new SamlError('signature_invalid', message)
}

function weakAlgorithm(what: string): SamlError {
  return new SamlError(
    'weak_algorithm',
    `The response is signed with ${what}, which is refused. In Entra, set the signing algorithm to SHA-256 (SAML Signing Certificate > Signing Algorithm).`,
  )
}

function decodeBase64Text(element: Element | null, what: string): Buffer {
  const text = element === null ? null : soleText(element)
  const compact = text?.replace(/\s+/g, '') ?? ''
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw signatureInvalid(`The signature's ${what} is not valid Base64.`)
  }
  return Buffer.from(compact, 'base64')
}

function inclusivePrefixes(parent: Element): string[] {
  const inclusive = firstChildNamed(parent, NS.excC14n, 'InclusiveNamespaces')
  const list = inclusive === null ? '' : (inclusive.getAttribute('PrefixList') ?? '')
  return list.split(/\s+/).filter((prefix) => prefix.length > 0)
}

/** Namespace declarations in scope at `element` (nearest wins), for InclusiveNamespaces PrefixList. */
function inScopeNamespaces(element: Element, prefixes: string[]): { prefix: string; namespaceURI: string }[] {
  const found = new Map<string, string>()
  for (let node: Element | null = element; node !== null; node = node.parentNode as Element | null) {
    if (node.nodeType !== 1) break
    for (const prefix of prefixes) {
      const name = prefix === '#default' ? 'xmlns' : `xmlns:${prefix}`
      if (!found.has(prefix) && node.hasAttribute(name)) found.set(prefix, node.getAttribute(name) ?? '')
    }
  }
  return [...found].map(([prefix, namespaceURI]) => ({ prefix, namespaceURI }))
}

function canonicalize(element: Element, prefixes: string[]): string {
  try {
    return canonicalizer.process(
      element as never,
      {
        inclusiveNamespacesPrefixList: prefixes,
        ancestorNamespaces: prefixes.length > 0 ? inScopeNamespaces(element, prefixes) : [],
      } as never,
    )
  } catch {
    throw signatureInvalid('The signed content cannot be canonicalized.')
  }
}

export interface SignatureCheckOptions {
  keys: readonly VerificationKey[]
  allowSha1: boolean
  now: Date
  clockSkewMs: number
}

/**
 * Verifies `signature`, which structure checks have already placed as a direct child of
 * `signedElement` with a single Reference to `#signedElement/@ID`. Throws a SamlError on any doubt.
 */
export function verifyEnvelopedSignature(
  signature: Element,
  signedElement: Element,
  options: SignatureCheckOptions,
): VerificationKey {
  const [signedInfo, signatureValueElement] = childElements(signature)
  if (signedInfo === undefined || signatureValueElement === undefined)
    throw signatureInvalid('The signature is incomplete.')
  const [canonicalizationMethod, signatureMethod, reference] = childElements(signedInfo)
  if (canonicalizationMethod === undefined || signatureMethod === undefined || reference === undefined) {
    throw signatureInvalid('The signature is incomplete.')
  }
  if (attributeOrNull(canonicalizationMethod, 'Algorithm') !== EXC_C14N) {
    throw signatureInvalid('The signature uses a canonicalization other than exclusive c14n (without comments).')
  }
  const signatureAlgorithmUri = attributeOrNull(signatureMethod, 'Algorithm') ?? ''
  const algorithm = SIGNATURE_ALGORITHMS.get(signatureAlgorithmUri)
  if (algorithm === undefined)
    throw signatureInvalid('The signature algorithm is not supported (RSA or ECDSA with SHA-2 are).')
  if (algorithm.weak && !options.allowSha1) throw weakAlgorithm('RSA-SHA1')

  const transforms = firstChildNamed(reference, NS.dsig, 'Transforms')
  const transformList = transforms === null ? [] : childElements(transforms)
  const [envelopedTransform, c14nTransform, ...extraTransforms] = transformList
  if (
    envelopedTransform === undefined ||
    attributeOrNull(envelopedTransform, 'Algorithm') !== ENVELOPED ||
    extraTransforms.length > 0 ||
    (c14nTransform !== undefined && attributeOrNull(c14nTransform, 'Algorithm') !== EXC_C14N)
  ) {
    throw signatureInvalid('The signature must use exactly the enveloped-signature and exclusive c14n transforms.')
  }
  const digestMethod = firstChildNamed(reference, NS.dsig, 'DigestMethod')
  const digest = DIGEST_ALGORITHMS.get(digestMethod === null ? '' : (attributeOrNull(digestMethod, 'Algorithm') ?? ''))
  if (digest === undefined) throw signatureInvalid('The digest algorithm is not supported (SHA-2 is).')
  if (digest.weak && !options.allowSha1) throw weakAlgorithm('a SHA-1 digest')
  const expectedDigest = decodeBase64Text(firstChildNamed(reference, NS.dsig, 'DigestValue'), 'DigestValue')
  const signatureValue = decodeBase64Text(signatureValueElement, 'SignatureValue')

  // The enveloped-signature transform, done by detaching and restoring the very node so the DOM
  // (and the identity of every element in it) is unchanged afterwards.
  const nextSibling = signature.nextSibling
  signedElement.removeChild(signature)
  let canonicalSignedElement: string
  try {
    canonicalSignedElement = canonicalize(
      signedElement,
      c14nTransform === undefined ? [] : inclusivePrefixes(c14nTransform),
    )
  } finally {
    signedElement.insertBefore(signature, nextSibling)
  }
  const actualDigest = createHash(digest.hash).update(canonicalSignedElement).digest()
  if (actualDigest.length !== expectedDigest.length || !timingSafeEqual(actualDigest, expectedDigest)) {
    throw signatureInvalid('The signed content was changed after signing (digest mismatch).')
  }

  const canonicalSignedInfo = Buffer.from(canonicalize(signedInfo, inclusivePrefixes(canonicalizationMethod)))
  const now = options.now.getTime()
  let verifiedByOutOfDateKey: VerificationKey | null = null
  for (const key of options.keys) {
    if (key.keyType !== algorithm.keyType) continue
    const verified = verifySignatureValue(
      algorithm.hash,
      canonicalSignedInfo,
      key.keyType === 'ec' ? { key: key.key, dsaEncoding: 'ieee-p1363' } : key.key,
      signatureValue,
    )
    if (!verified) continue
    if (now + options.clockSkewMs >= key.notBefore && now - options.clockSkewMs < key.notAfter) return key
    verifiedByOutOfDateKey = key
  }
  if (verifiedByOutOfDateKey !== null) {
    const notAfter = new Date(verifiedByOutOfDateKey.notAfter).toISOString()
    throw new SamlError(
      'certificate_expired',
      `The response was signed by certificate ${verifiedByOutOfDateKey.fingerprintSha256.slice(0, 11)}…, which is not valid now (valid until ${notAfter}). Configure the IdP's current certificate.`,
    )
  }
  throw signatureInvalid(
    "The signature does not verify with any configured IdP certificate. If Entra's certificate was renewed, add the new one to this connection.",
  )
}
