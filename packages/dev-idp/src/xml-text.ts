import { escapeXml as escapeXmlText, XmlCharacterError } from '@gatehouse/server/xml-text'
import { DevIdpError } from './errors.ts'

/** Escapes a value for XML text or a quoted attribute; a value XML cannot carry is the caller's mistake. */
export function escapeXml(value: string): string {
  try {
    return escapeXmlText(value)
  } catch (error) {
    if (error instanceof XmlCharacterError) throw new DevIdpError('invalid_xml_character', error.message)
    throw error
  }
}
