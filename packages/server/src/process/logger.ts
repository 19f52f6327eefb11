import type { FastifyServerOptions } from 'fastify'
import type { BaseConfig } from './config.ts'

/**
 * Pino options for a service: every line names its service, and secrets never reach a log
 * (cookies, bearer tokens, SAML bodies and passwords are redacted wherever they appear).
 */
export function loggerOptions(config: Pick<BaseConfig, 'service' | 'logLevel'>): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    base: { service: config.service },
    redact: {
      paths: [
        'req.headers.cookie',
        'req.headers.authorization',
        'res.headers["set-cookie"]',
        '*.password',
        '*.SAMLResponse',
        '*.token',
      ],
      censor: '[redacted]',
    },
  }
}
