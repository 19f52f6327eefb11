// XML 1.0 §2.2 Char: anything else (NUL, most C0 controls, lone surrogates, U+FFFE/U+FFFF) cannot be
// carried at all, escaped or not, so it is refused rather than silently dropped. No dependencies:
// the SAML core and the development IdP import this module alone (`@gatehouse/server/xml-text`).
const notXmlChar = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

const replacements: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Kept as character references so attribute-value normalisation (XML 1.0 §3.3.3) cannot turn them
  // into spaces and change what was signed.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
}

/** A value holds a character no XML 1.0 document can carry. */
export class XmlCharacterError extends RangeError {
  override readonly name = 'XmlCharacterError'
}

/** Escapes a value for use in XML text or in a double- or single-quoted attribute. */
export function escapeXml(value: string): string {
  if (notXmlChar.test(value)) throw new XmlCharacterError('The value holds a character XML 1.0 cannot carry.')
  return value.replace(/[&<>"'\t\n\r]/g, (character) => replacements[character] ?? character)
}
