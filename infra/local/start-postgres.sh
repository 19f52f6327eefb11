#!/usr/bin/env bash
# Starts this machine's PostgreSQL cluster when nothing answers on 127.0.0.1:5432 (Debian's
# postgresql package, as on the development and CI machines), and waits until it accepts
# connections. Does nothing when one already answers.
set -euo pipefail

if pg_isready -h 127.0.0.1 -p 5432 -q; then
  exit 0
fi
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -z "$version" ]; then
  echo "no PostgreSQL cluster under /etc/postgresql: apt-get install postgresql, or set DATABASE_URL" >&2
  exit 1
fi
echo "starting PostgreSQL $version"
pg_ctlcluster --skip-systemctl-redirect "$version" main start
for _ in $(seq 1 30); do
  pg_isready -h 127.0.0.1 -p 5432 -q && exit 0
  sleep 1
done
echo "PostgreSQL did not accept connections within 30 s" >&2
exit 1
