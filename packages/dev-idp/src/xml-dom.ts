import { DOMParser, type Document, type Element } from '@xmldom/xmldom'
import { DevIdpError, type DevIdpErrorReason } from './errors.ts'

export const namespaces = {
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  xmldsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const

/**
 * Parses XML strictly: any warning or error aborts, and a DOCTYPE is refused outright, since entity
 * declarations are how XXE and entity-expansion ("billion laughs") attacks enter.
 */
export function parseXml(xml: string, reason: DevIdpErrorReason = 'invalid_xml'): Document {
  if (/<!DOCTYPE/i.test(xml)) throw new DevIdpError(reason, 'XML with a DOCTYPE is refused')
  const parser = new DOMParser({
    onError: (level, message) => {
      throw new DevIdpError(reason, `malformed XML (${level}): ${message}`)
    },
  })
  try {
    return parser.parseFromString(xml, 'text/xml')
  } catch (error) {
    if (error instanceof DevIdpError) throw error
    throw new DevIdpError(reason, `malformed XML: ${(error as Error).message}`, { cause: error })
  }
}

export function childElements(parent: Element): Element[] {
  const children: Element[] = []
  for (let node = parent.firstChild; node !== null; node = node.nextSibling) {
    if (node.nodeType === node.ELEMENT_NODE) children.push(node as Element)
  }
  return children
}

export function descendantElements(root: Element): Element[] {
  const found: Element[] = []
  const pending: Element[] = [root]
  for (let element = pending.pop(); element !== undefined; element = pending.pop()) {
    found.push(element)
    pending.push(...childElements(element).reverse())
  }
  return found
}
