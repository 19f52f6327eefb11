import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DevIdpError } from './errors.ts'

/** An enterprise application as Entra's "Basic SAML Configuration" holds it. */
export interface RegisteredApplication {
  /** "Identifier (Entity ID)": the SP's entity ID, matched against an AuthnRequest's Issuer. */
  identifier: string
  /** "Reply URL (Assertion Consumer Service URL)": where responses go, whatever a request asks. */
  replyUrl: string
}

export interface RememberedUser {
  email: string
  firstName?: string
  lastName?: string
}

export interface Registry {
  applications(): Promise<RegisteredApplication[]>
  findApplication(identifier: string): Promise<RegisteredApplication | undefined>
  /** Validates, then adds the application or replaces the one with the same Identifier. */
  saveApplication(application: { identifier?: unknown; replyUrl?: unknown }): Promise<RegisteredApplication>
  removeApplication(identifier: string): Promise<void>
  users(): Promise<RememberedUser[]>
  rememberUser(user: RememberedUser): Promise<void>
}

const maxIdentifierLength = 1024
const maxUrlLength = 2048
const maxNameLength = 256
const maxRememberedUsers = 20
// Anything from C0/C1 controls would end up in XML or HTML the user did not mean to write.
const controlCharacters = /\p{Cc}/u

/**
 * The applications and the users signed in before, as JSON under `${dataDir}/dev-idp/`. Writes
 * are serialised in this process and land by rename, so a crash never leaves half a file.
 */
export function createRegistry(dataDir: string): Registry {
  const directory = join(dataDir, 'dev-idp')
  const applicationsPath = join(directory, 'applications.json')
  const usersPath = join(directory, 'users.json')
  let pendingWrite: Promise<unknown> = Promise.resolve()

  function serialised<T>(operation: () => Promise<T>): Promise<T> {
    const result = pendingWrite.then(operation, operation)
    pendingWrite = result.catch(() => undefined)
    return result
  }

  async function readList<T>(path: string): Promise<T[]> {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw error
    }
    const parsed: unknown = JSON.parse(text)
    return Array.isArray(parsed) ? (parsed as T[]) : []
  }

  async function writeList(path: string, list: unknown[]): Promise<void> {
    await mkdir(directory, { recursive: true, mode: 0o700 })
    const temporaryPath = `${path}.${randomBytes(6).toString('hex')}.tmp`
    await writeFile(temporaryPath, `${JSON.stringify(list, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    await rename(temporaryPath, path)
  }

  return {
    applications: () => readList<RegisteredApplication>(applicationsPath),
    async findApplication(identifier) {
      const applications = await readList<RegisteredApplication>(applicationsPath)
      return applications.find((application) => application.identifier === identifier)
    },
    saveApplication(input) {
      const application = validateApplication(input)
      return serialised(async () => {
        const applications = await readList<RegisteredApplication>(applicationsPath)
        const index = applications.findIndex((existing) => existing.identifier === application.identifier)
        if (index === -1) applications.push(application)
        else applications[index] = application
        await writeList(applicationsPath, applications)
        return application
      })
    },
    removeApplication(identifier) {
      return serialised(async () => {
        const applications = await readList<RegisteredApplication>(applicationsPath)
        await writeList(
          applicationsPath,
          applications.filter((application) => application.identifier !== identifier),
        )
      })
    },
    users: () => readList<RememberedUser>(usersPath),
    rememberUser(input) {
      const user = validateUser(input)
      return serialised(async () => {
        const others = (await readList<RememberedUser>(usersPath)).filter(
          (existing) => existing.email.toLowerCase() !== user.email.toLowerCase(),
        )
        await writeList(usersPath, [user, ...others].slice(0, maxRememberedUsers))
      })
    },
  }
}

export function validateApplication(input: { identifier?: unknown; replyUrl?: unknown }): RegisteredApplication {
  const identifier = text(input.identifier, 'Identifier (Entity ID)', maxIdentifierLength)
  const replyUrl = text(input.replyUrl, 'Reply URL (Assertion Consumer Service URL)', maxUrlLength)
  const parsed = URL.canParse(replyUrl) ? new URL(replyUrl) : undefined
  // Entra itself insists on https except for localhost; a dev IdP accepts plain http anywhere.
  if (parsed === undefined || !['http:', 'https:'].includes(parsed.protocol)) {
    throw new DevIdpError('invalid_option', 'Reply URL (Assertion Consumer Service URL) must be an http(s) URL')
  }
  return { identifier, replyUrl }
}

export function validateUser(input: { email?: unknown; firstName?: unknown; lastName?: unknown }): RememberedUser {
  const email = text(input.email, 'Email', maxNameLength)
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new DevIdpError('invalid_option', 'Email must be an email address')
  const firstName = optionalText(input.firstName, 'First name')
  const lastName = optionalText(input.lastName, 'Last name')
  return { email, ...(firstName ? { firstName } : {}), ...(lastName ? { lastName } : {}) }
}

function text(value: unknown, label: string, maxLength: number): string {
  const trimmed = typeof value === 'string' ? value.trim() : ''
  if (trimmed === '') throw new DevIdpError('invalid_option', `${label} is required`)
  if (trimmed.length > maxLength) throw new DevIdpError('invalid_option', `${label} is too long`)
  if (controlCharacters.test(trimmed)) throw new DevIdpError('invalid_option', `${label} holds control characters`)
  return trimmed
}

function optionalText(value: unknown, label: string): string | undefined {
  if (value === undefined || (typeof value === 'string' && value.trim() === '')) return undefined
  return text(value, label, maxNameLength)
}
