// One definition of "an email address" for every service: trimmed, lower-cased, and shaped
// like addr-spec (RFC 5322 §3.4.1, dot-atom local part) with a dotted domain. `#` is allowed in
// the local part: Entra guest accounts look like `jo_example.com#EXT#@tenant.onmicrosoft.com`.
const emailPattern =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/** The canonical form of an email address, or null when it is not one (RFC 5321: 254 characters at most). */
export function normalizeEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase()
  if (email.length > 254 || email.indexOf('@') > 64) return null
  return emailPattern.test(email) ? email : null
}
