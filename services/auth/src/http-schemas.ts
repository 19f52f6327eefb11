// Shapes shared by several route files: one TypeBox declaration gives validation, types and OpenAPI.
import { ErrorRef, Uuid } from '@gatehouse/server/http'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import type { UserRow } from './sessions/repo.ts'

export { ErrorRef, Uuid }
export const WorkspaceParams = Type.Object({ workspaceId: Uuid })

export const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  firstName: Type.Union([Type.String(), Type.Null()]),
  lastName: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  emailConfirmed: Type.Boolean({
    description: 'Whether the address is proven; until then the account cannot accept invitations or use SSO',
  }),
})

export function userView(user: UserRow) {
  return {
    id: user.id,
    email: user.email,
    firstName: user.firstName,
    lastName: user.lastName,
    createdAt: user.createdAt.toISOString(),
    emailConfirmed: user.emailConfirmedAt !== null,
  }
}

export function clientOf(request: FastifyRequest) {
  return { ip: request.ip, userAgent: String(request.headers['user-agent'] ?? '') }
}
