// One definition of "an email address" for every service and the SAML core: addr-spec (RFC 5322
// §3.4.1) with a dot-atom local part of at most 64 characters, which allows `#` (Entra guest
// accounts look like `jo_example.com#EXT#@tenant.onmicrosoft.com`), and a DNS host name of at least
// two labels whose last one has a letter; 254 characters at most (RFC 5321). No dependencies: the
// SAML core imports this module alone (`@gatehouse/server/email`).
const localPartPattern = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/
const dnsLabelPattern = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/

/** Whether `value` is an email address, as it stands (no trimming, any case). */
export function isEmailAddress(value: string): boolean {
  if (value.length > 254) return false
  const at = value.lastIndexOf('@')
  if (at <= 0 || at > 64) return false
  const labels = value.slice(at + 1).split('.')
  return (
    localPartPattern.test(value.slice(0, at)) &&
    labels.length >= 2 &&
    labels.every((label) => dnsLabelPattern.test(label)) &&
    /[A-Za-z]/.test(labels[labels.length - 1] ?? '')
  )
}

/** The canonical form of an email address (trimmed, lower-cased), or null when it is not one. */
export function normalizeEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase()
  return isEmailAddress(email) ? email : null
}
