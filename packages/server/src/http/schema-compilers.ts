// Fastify's own schema compilers (ajv for requests, fast-json-stringify for responses), run when a
// route is first used instead of while the app starts, and once per schema in a process. Compiling
// every route's schemas was a third of a program's start-up CPU and most of building an app in a
// test, for routes that a given process (a worker, one replica of many) may never answer.
import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { FastifySchema, FastifyServerOptions } from 'fastify'

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
type BuildValidator = NonNullable<CompilersFactory['buildValidator']>
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>
type Validate = ReturnType<ReturnType<BuildValidator>>
type SharedSchemas = Parameters<BuildValidator>[0]
type RequestSchema = Parameters<ReturnType<BuildValidator>>[0]['schema']

const fastifyValidators: BuildValidator = AjvCompiler()
const fastifySerializers: BuildSerializer = SerializerSelector()
type Serialize = (data: unknown) => string

// What was compiled in this process, by what it was compiled from: apps built alike (a test file
// builds hundreds; routes declare their schemas as they register) compile each schema once. A
// schema that does not compile is remembered too: its route fails each time without recompiling.
const compiled = new Map<string, { compiled: Validate | Serialize } | { failure: unknown }>()
function compiledOnce<T extends Validate | Serialize>(key: string, compile: () => T): T {
  let entry = compiled.get(key)
  if (entry === undefined) {
    try {
      entry = { compiled: compile() }
    } catch (failure) {
      entry = { failure }
    }
    compiled.set(key, entry)
  }
  if ('failure' in entry) throw entry.failure
  return entry.compiled as T
}

/** A schema as a key: JSON, with anything JSON would drop or empty (a RegExp) written out. */
function keyOf(schema: unknown): string {
  return JSON.stringify(schema, (_name, part) =>
    part instanceof RegExp || typeof part === 'function' ? String(part) : part,
  )
}

/**
 * A validator that compiles on its first call. Fastify reads ajv's `errors` from the function
 * itself, and passes the request as the parent of what is validated when it sees `schemaEnv`
 * (ajv needs that to change a root value, as coercion or defaults would): both as for ajv's own.
 */
function validatorOnFirstUse(compile: () => Validate): Validate {
  let validator: Validate | undefined
  const validate = Object.assign(
    (data: unknown, context?: object) => {
      validator ??= compile()
      const result = (validator as (data: unknown, context?: object) => unknown)(data, context)
      validate.errors = validator.errors
      return result
    },
    { errors: null as Validate['errors'], schemaEnv: true },
  )
  return validate as unknown as Validate
}

type ValidatorRoute = Parameters<ReturnType<BuildValidator>>[0]
type SerializerRoute = Parameters<ReturnType<BuildSerializer>>[0]

function compiledValidator(
  externalSchemas: SharedSchemas,
  options: Parameters<BuildValidator>[1],
  route: ValidatorRoute,
) {
  return compiledOnce(`validator ${keyOf([externalSchemas, options])} ${route.httpPart} ${keyOf(route.schema)}`, () =>
    fastifyValidators(externalSchemas, options)(route),
  )
}

function compiledSerializer(
  externalSchemas: Parameters<BuildSerializer>[0],
  options: Parameters<BuildSerializer>[1],
  route: SerializerRoute,
) {
  return compiledOnce(`serializer ${keyOf([externalSchemas, options])} ${keyOf(route.schema)}`, () =>
    fastifySerializers(externalSchemas, options)(route),
  )
}

const buildValidator: BuildValidator = (externalSchemas, options) => (route) => {
  // Fastify lower-cases a header schema's names only for its own compiler: said at start-up.
  if (route.httpPart === 'headers') throw new Error(`${route.method} ${route.url}: declare no headers schema`)
  return validatorOnFirstUse(() => compiledValidator(externalSchemas, options, route))
}

const buildSerializer: BuildSerializer = (externalSchemas, options) => (route) => {
  let serialize: Serialize | undefined
  return (data: unknown) => {
    serialize ??= compiledSerializer(externalSchemas, options, route)
    return serialize(data)
  }
}

/**
 * `schemaController` for Fastify: its default compilers, compiling on first use. (Fastify then
 * counts them as custom, which only means header schemas' names would not be lower-cased: routes
 * may declare none.)
 */
export const compileSchemasOnFirstUse = { compilersFactory: { buildValidator, buildSerializer } }

/** A route's schema as it was declared, with the shared schemas of where it was declared. */
export interface DeclaredSchema {
  method: string
  url: string
  schema: FastifySchema
  /** `getSchemas()` of the instance the route was declared on. */
  sharedSchemas: Record<string, unknown>
}

// Headers are refused as routes register (above).
const requestParts = ['body', 'querystring', 'params'] as const

/**
 * Compiles every request and response schema of these routes now, as their first requests
 * would (the same compilers, options and cache), and names each that does not compile: a broken schema no longer stops the app
 * from starting, so a test asks this.
 */
export function schemaProblems(routes: readonly DeclaredSchema[], ajvOptions: FastifyServerOptions['ajv']): string[] {
  const problems: string[] = []
  const attempt = (what: string, compile: () => unknown) => {
    try {
      compile()
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  for (const { method, url, schema, sharedSchemas } of routes) {
    for (const httpPart of requestParts) {
      const part = schema[httpPart]
      if (part === undefined) continue
      attempt(`${method} ${url} ${httpPart}`, () =>
        compiledValidator(sharedSchemas as SharedSchemas, ajvOptions, {
          schema: part as RequestSchema,
          method,
          url,
          httpPart,
        }),
      )
    }
    for (const [httpStatus, response] of Object.entries(schema.response ?? {})) {
      attempt(`${method} ${url} response ${httpStatus}`, () =>
        compiledSerializer(sharedSchemas, undefined, { schema: response, method, url, httpStatus }),
      )
    }
  }
  return problems
}
