#!/usr/bin/env bash
# Starts a Redis on 127.0.0.1:6379 when nothing answers there (no persistence: it holds queues and
# caches for development and tests), and waits until it answers PING. Does nothing when one
# already answers. `pnpm dev` starts its own when needed; this is for shells and CI.
set -euo pipefail

ping() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null || true)" = "PONG" ]; }

if ping; then
  exit 0
fi
if ! command -v redis-server >/dev/null; then
  echo "redis-server is not installed: apt-get install redis-server, or set REDIS_URL" >&2
  exit 1
fi
echo "starting Redis on 127.0.0.1:6379"
mkdir -p /var/lib/redis /var/log/redis
redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
  --dir /var/lib/redis --logfile /var/log/redis/gatehouse.log
for _ in $(seq 1 30); do
  ping && exit 0
  sleep 1
done
echo "Redis did not answer within 30 s" >&2
exit 1
