// How a relying party checks what the dev IdP signs: xml-crypto itself, trusting only the given
// certificate (never the KeyInfo inside the document).
import { DOMParser, type Element } from '@xmldom/xmldom'
import { SignedXml } from 'xml-crypto'
import { EcdsaSha256, signatureAlgorithmUris } from '../src/index.ts'

const xmldsig = 'http://www.w3.org/2000/09/xmldsig#'

/** The canonical XML of every reference each Signature element validly covers, in document order. */
export function verifiedReferences(xml: string, certificatePem: string): string[][] {
  const document = new DOMParser().parseFromString(xml, 'text/xml')
  const signatures = Array.from(document.getElementsByTagNameNS(xmldsig, 'Signature')) as Element[]
  return signatures.map((signature) => {
    const verifier = new SignedXml({ publicCert: certificatePem })
    verifier.SignatureAlgorithms[signatureAlgorithmUris['ecdsa-sha256']] = EcdsaSha256
    verifier.loadSignature(signature as unknown as Parameters<SignedXml['loadSignature']>[0])
    if (!verifier.checkSignature(xml)) throw new Error('signature does not verify')
    return verifier.getSignedReferences()
  })
}

export function parse(xml: string) {
  return new DOMParser().parseFromString(xml, 'text/xml')
}
