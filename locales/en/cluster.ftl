cluster-bad-count = --processes must be at least 1, not { $processes }.
cluster-needs-webhook = Several processes need webhook mode (set WEBHOOK_URL and WEBHOOK_SECRET): with long polling only one process may ask Telegram for updates.
cluster-needs-postgresql = Several processes need PostgreSQL (DATABASE_URL=postgresql+asyncpg://...): SQLite has one writer at a time, a second process would only add lock waits.
cluster-started = Starting { $processes } webhook processes sharing { $listen } (SO_REUSEPORT). SIGTERM or Ctrl-C stops them all.
