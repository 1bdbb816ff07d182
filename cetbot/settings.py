"""Settings from the environment (and `.env`), one object passed down."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from cetbot.clock import Clock, RunningClock, SystemClock


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    bot_framework: str = "aiogram"
    database_url: str = "sqlite+aiosqlite:///cetbot.db"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    payment_gateway: str = "sandbox"
    payment_secret: SecretStr = SecretStr("sandbox-secret")
    # Where the sandbox payment server listens (its pages and its query API).
    payment_sandbox_url: str = "http://127.0.0.1:8090"
    ticket_signing_key: SecretStr | None = None
    admin_user_ids: str = ""
    cetbot_now: datetime | None = None
    smtp_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path("data")
    # R32: reminder offsets before expiry, in hours.
    reminder_offsets_hours: str = "6,1"

    def clock(self) -> Clock:
        if self.cetbot_now is not None:
            return RunningClock(self.cetbot_now)
        return SystemClock()

    def admin_ids(self) -> set[int]:
        return {int(x) for x in self.admin_user_ids.replace(" ", "").split(",") if x}
