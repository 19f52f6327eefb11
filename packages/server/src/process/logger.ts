import type { FastifyServerOptions } from 'fastify'
import type { BaseConfig } from './config.ts'

/**
 * Pino options for a service: every line names its service, and secrets never reach a log
 * (cookies, bearer and setup-link tokens, the gateway's secret, SAML bodies and passwords are redacted wherever they appear).
 */
export function loggerOptions(config: Pick<BaseConfig, 'service' | 'logLevel'>): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    base: { service: config.service },
    redact: {
      paths: [
        'req.headers.cookie',
        'req.headers.authorization',
        // A setup link's token (auth's setup routes), and the web gateway's secret to the services.
        'req.headers["x-setup-token"]',
        'req.headers["x-gatehouse-gateway"]',
        'res.headers["set-cookie"]',
        '*.password',
        '*.SAMLResponse',
        '*.token',
      ],
      censor: '[redacted]',
    },
  }
}
