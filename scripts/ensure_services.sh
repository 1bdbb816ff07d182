#!/usr/bin/env bash
# Makes sure the services the tests need are up: PostgreSQL (with room for the
# 300-connection seat test) and Redis. Starts what is down; says what it did.
set -u
pg_ok() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "ensure_services: PostgreSQL is not installed here; PostgreSQL tests will be skipped and say why" >&2
else
  if ! pg_ok; then
    echo "ensure_services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 30); do pg_ok && break; sleep 1; done
  fi
  # The R23 test opens 300 connections at once; Debian's default is 100.
  max=$(psql -h 127.0.0.1 -U postgres -d postgres -Atc "show max_connections" 2>/dev/null || echo 0)
  if [ "${max:-0}" -lt 400 ]; then
    echo "ensure_services: raising PostgreSQL max_connections from ${max} to 400 (restart)"
    psql -h 127.0.0.1 -U postgres -d postgres -qc "ALTER SYSTEM SET max_connections = 400" &&
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main restart
    for _ in $(seq 1 30); do pg_ok && break; sleep 1; done
  fi
fi
if command -v redis-server >/dev/null 2>&1; then
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "ensure_services: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
fi
exit 0
