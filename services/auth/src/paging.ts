import { errors } from '@gatehouse/server/errors'

/** Where a newest-first page ended: the last row's time and id (keyset paging). */
export interface PagePosition {
  at: Date
  id: string
}

// Opaque to clients: base64url of "<ISO time> <uuid>".
export function encodeCursor(position: PagePosition): string {
  return Buffer.from(`${position.at.toISOString()} ${position.id}`).toString('base64url')
}

export function decodeCursor(cursor: string): PagePosition {
  const text = Buffer.from(cursor, 'base64url').toString()
  const match =
    /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(
      text,
    )
  const at = match ? new Date(match[1] as string) : null
  if (!match || !at || Number.isNaN(at.getTime())) {
    throw errors.badRequest('The cursor is not one this API returned.')
  }
  return { at, id: match[2] as string }
}
