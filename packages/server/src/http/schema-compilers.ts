// Fastify's own schema compilers (ajv for requests, fast-json-stringify for responses), run when a
// route is first used instead of while the app starts, and once per schema in a process. Compiling
// every route's schemas was a third of a program's start-up CPU and most of building an app in a
// test, for routes that a given process (a worker, one replica of many) may never answer.
import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
type BuildValidator = NonNullable<CompilersFactory['buildValidator']>
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>
type Validate = ReturnType<ReturnType<BuildValidator>>

const fastifyValidators: BuildValidator = AjvCompiler()
const fastifySerializers: BuildSerializer = SerializerSelector()
type Serialize = (data: unknown) => string

// What was compiled in this process, by what it was compiled from: apps built alike (a test file
// builds hundreds; routes declare their schemas as they register) compile each schema once.
const compiled = new Map<string, Validate | Serialize>()
function compiledOnce<T extends Validate | Serialize>(key: string, compile: () => T): T {
  let found = compiled.get(key) as T | undefined
  if (found === undefined) {
    found = compile()
    compiled.set(key, found)
  }
  return found
}

/** A schema as a key: JSON, with anything JSON would drop or empty (a RegExp) written out. */
function keyOf(schema: unknown): string {
  return JSON.stringify(schema, (_name, part) =>
    part instanceof RegExp || typeof part === 'function' ? String(part) : part,
  )
}

/** A validator that compiles on its first call; ajv's `errors` are read from the function itself. */
function validatorOnFirstUse(compile: () => Validate): Validate {
  let validator: Validate | undefined
  const validate = Object.assign(
    (data: unknown) => {
      validator ??= compile()
      const result = validator(data)
      validate.errors = validator.errors
      return result
    },
    { errors: null as Validate['errors'] },
  )
  // Fastify only calls a validator and reads its `errors`.
  return validate as unknown as Validate
}

const buildValidator: BuildValidator = (externalSchemas, options) => {
  const compiledWith = keyOf([externalSchemas, options])
  return (route) =>
    validatorOnFirstUse(() =>
      compiledOnce(`validator ${compiledWith} ${route.httpPart} ${keyOf(route.schema)}`, () =>
        fastifyValidators(externalSchemas, options)(route),
      ),
    )
}

const buildSerializer: BuildSerializer = (externalSchemas, options) => {
  const compiledWith = keyOf([externalSchemas, options])
  return (route) => {
    let serialize: Serialize | undefined
    return (data: unknown) => {
      serialize ??= compiledOnce(`serializer ${compiledWith} ${keyOf(route.schema)}`, () =>
        fastifySerializers(externalSchemas, options)(route),
      )
      return serialize(data)
    }
  }
}

/**
 * `schemaController` for Fastify: its default compilers, compiling on first use. (Fastify then
 * counts them as custom, which only means header schemas' names are not lower-cased for them:
 * no route declares one.)
 */
export const compileSchemasOnFirstUse = { compilersFactory: { buildValidator, buildSerializer } }
