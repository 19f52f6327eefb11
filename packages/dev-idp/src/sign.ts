import {
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyLike,
  KeyObject,
} from 'node:crypto'
import type { Element } from '@xmldom/xmldom'
import { SignedXml } from 'xml-crypto'
import { DevIdpError } from './errors.ts'
import { keyTypeOf, type SigningKeys } from './keys.ts'
import { childElements, descendantElements, namespaces, parseXml } from './xml-dom.ts'

export type SignatureAlgorithmName = 'rsa-sha256' | 'rsa-sha1' | 'ecdsa-sha256'

export interface SignElementOptions {
  keys: SigningKeys
  /** Default: rsa-sha256 for an RSA key, ecdsa-sha256 for an EC key. */
  algorithm?: SignatureAlgorithmName
  /** Default true: KeyInfo/X509Data/X509Certificate carries the certificate, as Entra's signatures do. */
  includeKeyInfo?: boolean
}

export const signatureAlgorithmUris: Record<SignatureAlgorithmName, string> = {
  'rsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'rsa-sha1': 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  'ecdsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
}

const digestAlgorithmUris: Record<SignatureAlgorithmName, string> = {
  'rsa-sha256': 'http://www.w3.org/2001/04/xmlenc#sha256',
  'rsa-sha1': 'http://www.w3.org/2000/09/xmldsig#sha1',
  'ecdsa-sha256': 'http://www.w3.org/2001/04/xmlenc#sha256',
}

const exclusiveC14n = 'http://www.w3.org/2001/10/xml-exc-c14n#'
const envelopedSignature = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature'

/**
 * ECDSA-SHA256 for xml-crypto, which ships RSA and HMAC only. XML-DSig 1.1 §6.4.3 wants the raw r||s
 * pair (IEEE P1363), not the DER sequence node's default output would give.
 * Register it on a verifying SignedXml with `sig.SignatureAlgorithms[uri] = EcdsaSha256`.
 */
export class EcdsaSha256 {
  getSignature(signedInfo: string | Buffer, privateKey: KeyLike): string {
    return cryptoSign('sha256', Buffer.from(signedInfo), {
      key: privateKey instanceof KeyObject ? privateKey : createPrivateKey(privateKey),
      dsaEncoding: 'ieee-p1363',
    }).toString('base64')
  }

  verifySignature(material: string, key: KeyLike, signatureValue: string): boolean {
    return cryptoVerify(
      'sha256',
      Buffer.from(material),
      { key: key instanceof KeyObject ? key : createPublicKey(key), dsaEncoding: 'ieee-p1363' },
      Buffer.from(signatureValue, 'base64'),
    )
  }

  getAlgorithmName(): string {
    return signatureAlgorithmUris['ecdsa-sha256']
  }
}

// Only characters of an NCName reach the XPath below, so an ID can never break out of its quotes.
const ncName = /^[A-Za-z_][A-Za-z0-9._-]*$/

/**
 * Signs the element whose ID attribute is `elementId` with an enveloped signature placed right after
 * its <Issuer> (saml-core §5.4.1/§5.4.2: the Signature follows the Issuer), or as its first child
 * when it has none (an EntityDescriptor). Exclusive c14n, digest matching the signature algorithm.
 */
export function signElement(xml: string, elementId: string, options: SignElementOptions): string {
  if (!ncName.test(elementId)) {
    throw new DevIdpError('invalid_option', `element ID ${JSON.stringify(elementId)} is not an XML NCName`)
  }
  const keyType = keyTypeOf(options.keys.privateKeyPem)
  const algorithm = options.algorithm ?? (keyType === 'ec' ? 'ecdsa-sha256' : 'rsa-sha256')
  if ((algorithm === 'ecdsa-sha256') !== (keyType === 'ec')) {
    throw new DevIdpError('algorithm_key_mismatch', `${algorithm} cannot be computed with an ${keyType} key`)
  }

  const target = findSingleElementWithId(xml, elementId)
  const hasIssuer = childElements(target).some(
    (child) => child.localName === 'Issuer' && child.namespaceURI === namespaces.assertion,
  )
  const targetXPath = `//*[@ID='${elementId}']`
  const location = hasIssuer
    ? {
        reference: `${targetXPath}/*[local-name()='Issuer' and namespace-uri()='${namespaces.assertion}']`,
        action: 'after' as const,
      }
    : { reference: targetXPath, action: 'prepend' as const }

  const signedXml = new SignedXml({
    privateKey: options.keys.privateKeyPem,
    publicCert: options.keys.certificatePem,
    signatureAlgorithm: signatureAlgorithmUris[algorithm],
    canonicalizationAlgorithm: exclusiveC14n,
    ...(options.includeKeyInfo === false ? { getKeyInfoContent: () => null } : {}),
  })
  signedXml.SignatureAlgorithms[signatureAlgorithmUris['ecdsa-sha256']] = EcdsaSha256
  signedXml.addReference({
    xpath: targetXPath,
    transforms: [envelopedSignature, exclusiveC14n],
    digestAlgorithm: digestAlgorithmUris[algorithm],
  })
  signedXml.computeSignature(xml, { location })
  return signedXml.getSignedXml()
}

function findSingleElementWithId(xml: string, elementId: string): Element {
  const document = parseXml(xml)
  if (document.documentElement === null) throw new DevIdpError('invalid_xml', 'the XML has no root element')
  const matches = descendantElements(document.documentElement).filter(
    (element) => element.getAttribute('ID') === elementId,
  )
  const [target] = matches
  if (target === undefined) throw new DevIdpError('element_not_found', `no element has ID="${elementId}"`)
  if (matches.length > 1) {
    throw new DevIdpError('duplicate_element_id', `${matches.length} elements have ID="${elementId}"`)
  }
  return target
}
