// A program's process: its settings read from the environment, its log options, and listening
// and stopping (one line and exit 1 for a bad setting, a graceful close on SIGTERM).
export {
  type BaseConfig,
  ConfigError,
  type Env,
  loadBaseConfig,
  type ProcessRole,
  readChoice,
  readCount,
  readDuration,
  readGatewaySecret,
  readMaxEventLoopDelay,
  readPort,
  readTrustProxy,
  readUrl,
  readUrlRequiredInProduction,
  runsWorkers,
  servesApi,
} from './config.ts'
export { loggerOptions } from './logger.ts'
export { type ServeOptions, serve, start } from './serve.ts'
