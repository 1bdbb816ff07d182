cluster-bad-count = --processes 至少为 1，当前为 { $processes }。
cluster-needs-webhook = 多个进程需要 Webhook 模式（请设置 WEBHOOK_URL 和 WEBHOOK_SECRET）：长轮询时只能有一个进程向 Telegram 获取消息。
cluster-needs-postgresql = 多个进程需要 PostgreSQL（DATABASE_URL=postgresql+asyncpg://...）：SQLite 同一时间只有一个写入者，多开进程只会增加锁等待。
cluster-started = 正在启动 { $processes } 个 Webhook 进程，共用 { $listen }（SO_REUSEPORT）。SIGTERM 或 Ctrl-C 会全部停止。
