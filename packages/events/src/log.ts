/** The logger the package writes to: a pino or Fastify logger fits as is. */
export interface EventsLog {
  info(details: Record<string, unknown>, message: string): void
  warn(details: Record<string, unknown>, message: string): void
  error(details: Record<string, unknown>, message: string): void
}

/** Without a logger, problems still reach stderr; routine progress is not printed. */
export const defaultLog: EventsLog = {
  info: () => {},
  warn: (details, message) => console.warn(JSON.stringify({ level: 'warn', msg: message, ...details })),
  error: (details, message) => console.error(JSON.stringify({ level: 'error', msg: message, ...details })),
}
