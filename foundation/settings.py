"""Settings from the environment (and `.env`), one object passed down."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from foundation.clock import Clock, RunningClock, SystemClock


class Settings(BaseSettings):
    # env_ignore_empty: `NAME=` as .env.example ships it means "not set" (its default), for
    # every setting; a blank secret must never become an empty secret.
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    bot_framework: str = "aiogram"
    database_url: str = "sqlite+aiosqlite:///cetbot.db"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    payment_gateway: str = "sandbox"
    # No default: a default is public. `cetbot run` and `cetbot worker` refuse to start
    # without a strong one (cetbot/checklist.py); `cetbot demo` makes one per database.
    payment_secret: SecretStr | None = None
    # Where the payment callback listens in polling mode: loopback unless told otherwise
    # (a gateway reaching it from outside goes through a proxy, or set 0.0.0.0 on purpose).
    payment_callback_host: str = "127.0.0.1"
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
    # WeChat Official Account (`cetbot run --platform wechat`): the AppID and AppSecret of
    # the account, the Token and EncodingAESKey of its server configuration (no defaults:
    # `cetbot run` refuses to start without them), the API root, and the public push URL
    # entered in the account's settings (its path is served; unset: /wechat).
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_token: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_api_url: str = "https://api.weixin.qq.com"
    wechat_url: str | None = None
    # Whether the account may send menu messages (msgmenu); else choices are numbered.
    wechat_msgmenu: bool = True
    # Template ids (模板消息) for pushes outside WeChat's 48-hour window, each optionally
    # followed by ":" and the template's keyword names (bot/handlers/wechat/templates.py).
    wechat_template_reminder: str | None = None
    wechat_template_waitlist: str | None = None
    wechat_template_review: str | None = None
    wechat_template_expired: str | None = None
    wechat_template_payment: str | None = None
    wechat_template_sign_in: str | None = None
    # The bot's public address (https://...), where candidates open what the bot links to:
    # on WeChat, the signed links to ticket PDFs (`/tickets/...`). Needed by
    # `cetbot run --platform wechat`, which refuses to start without it.
    public_url: str | None = None

    @field_validator(
        "bot_token",
        "webhook_secret",
        "payment_secret",
        "ticket_signing_key",
        "wechat_app_secret",
        "wechat_token",
        "wechat_aes_key",
        mode="before",
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        # `WEBHOOK_SECRET=` as .env.example ships it is no secret at all: an empty secret
        # token would match a request that sends none. Blank means unset, for every secret.
        if value is None:
            return None
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        return None if isinstance(raw, str) and not raw.strip() else value

    @field_validator("payment_callback_host", mode="before")
    @classmethod
    def _blank_host_is_loopback(cls, value: object) -> object:
        # `PAYMENT_CALLBACK_HOST=` copied blank from .env.example keeps the safe default.
        return "127.0.0.1" if isinstance(value, str) and not value.strip() else value

    def clock(self) -> Clock:
        if self.cetbot_now is not None:
            return RunningClock(self.cetbot_now)
        return SystemClock()

    def admin_ids(self) -> set[int]:
        return {int(x) for x in self.admin_user_ids.replace(" ", "").split(",") if x}
