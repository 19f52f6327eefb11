// One rule for where a person may be sent after signing in, run by auth (the ACS redirect and the
// SP-initiated start) and served unchanged to browsers (the login and signup pages): plain
// JavaScript without imports, so that both run the very same text.

/** Longer `returnTo` values are dropped: a real path is short, and each pending sign-in stores one. */
export const MAX_RETURN_TO_LENGTH = 512

/**
 * `raw` as a same-origin path (with query and fragment) fit for a Location header or
 * `location.assign`, or null when it could lead anywhere else (open-redirect guard).
 * @param {unknown} raw
 * @param {string} origin the product's origin, e.g. "https://app.example"
 * @returns {string | null}
 */
export function sameOriginPath(raw, origin) {
  if (typeof raw !== 'string' || raw.length > MAX_RETURN_TO_LENGTH) return null
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return null
  // Browsers' URL parsers strip tabs and newlines (`/\t/evil.example` becomes `//evil.example`):
  // no control character is kept, whatever its position.
  for (const character of raw) {
    const code = character.charCodeAt(0)
    if (code < 0x20 || code === 0x7f) return null
  }
  let resolved
  try {
    resolved = new URL(raw, origin)
  } catch {
    return null
  }
  if (resolved.origin !== origin) return null
  // Dot segments resolve away (`/.//evil.example` -> `//evil.example`): what is returned must
  // itself not read as another host.
  if (resolved.pathname.startsWith('//') || resolved.pathname.startsWith('/\\')) return null
  const path = `${resolved.pathname}${resolved.search}${resolved.hash}`
  // Percent-encoding can make it six times longer than what was typed (each `é` is `%C3%A9`): the
  // limit holds for what is returned, which a pending sign-in's cookie stores.
  return path.length > MAX_RETURN_TO_LENGTH ? null : path
}
