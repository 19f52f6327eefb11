/**
 * A person's name as it is stored, whether typed at signup or claimed by an IdP: control
 * characters and unpaired surrogates removed (Postgres cannot hold NUL, and no page should show
 * them), trimmed, at most 100 characters; null when nothing is left.
 */
export function cleanName(name: string | undefined): string | null {
  const printable = name
    ?.replace(/\p{Cc}/gu, '')
    .toWellFormed()
    .trim()
  return printable ? [...printable].slice(0, 100).join('') : null
}
