// Fastify's own schema compilers (ajv for requests, fast-json-stringify for responses), run when a
// route is first used instead of while the app starts. Compiling every route's schemas was a
// quarter of a program's start-up CPU and most of building an app in a test, for routes that a
// given process (a worker, one replica of many) may never answer.
import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import type { FastifyServerOptions } from 'fastify'

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>
type BuildValidator = NonNullable<CompilersFactory['buildValidator']>
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>
type Validate = ReturnType<ReturnType<BuildValidator>>

// One per process: ajv-compiler keeps one ajv per set of shared schemas and options, so apps
// built alike (many in a test file) share the validators compiled for any of them.
const fastifyValidators: BuildValidator = AjvCompiler()
const fastifySerializers: BuildSerializer = SerializerSelector()

/** A validator that compiles on its first call; ajv's `errors` are read from the function itself. */
function validatorOnFirstUse(compile: () => Validate): Validate {
  let compiled: Validate | undefined
  const validate = Object.assign(
    (data: unknown) => {
      compiled ??= compile()
      const result = compiled(data)
      validate.errors = compiled.errors
      return result
    },
    { errors: null as Validate['errors'] },
  )
  // Fastify only calls a validator and reads its `errors`.
  return validate as unknown as Validate
}

const buildValidator: BuildValidator = (externalSchemas, options) => {
  let compiler: ReturnType<BuildValidator> | undefined
  return (route) =>
    validatorOnFirstUse(() => {
      compiler ??= fastifyValidators(externalSchemas, options)
      return compiler(route)
    })
}

const buildSerializer: BuildSerializer = (externalSchemas, options) => {
  let compiler: ReturnType<BuildSerializer> | undefined
  return (route) => {
    let serialize: ((data: unknown) => string) | undefined
    return (data: unknown) => {
      compiler ??= fastifySerializers(externalSchemas, options)
      serialize ??= compiler(route)
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
