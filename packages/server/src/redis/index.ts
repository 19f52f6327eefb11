// The one Redis client factory, and Redis outages as a type (RedisUnavailableError) rather than
// ioredis's message text. The keyspace is its own entry point, @gatehouse/server/redis-keys.
export {
  type CreateRedisOptions,
  closeRedis,
  createRedis,
  isRedisUnavailable,
  pingRedis,
  type RedisLog,
  RedisUnavailableError,
} from './client.ts'
