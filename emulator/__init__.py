"""Local fake Telegram Bot API and WeChat Official Account servers: control APIs, test clients
and chat pages (/ for Telegram, /wechat for WeChat)."""

from emulator.client import EmulatorClient, EmulatorError, EmulatorTimeout
from emulator.config import EmulatorConfig, RateLimitConfig
from emulator.server import RunningEmulator, create_app, start_emulator
from emulator.wechat_client import (
    WeChatEmulatorClient,
    WeChatEmulatorError,
    WeChatEmulatorTimeout,
)

__all__ = [
    "EmulatorClient",
    "EmulatorConfig",
    "EmulatorError",
    "EmulatorTimeout",
    "RateLimitConfig",
    "RunningEmulator",
    "WeChatEmulatorClient",
    "WeChatEmulatorError",
    "WeChatEmulatorTimeout",
    "create_app",
    "start_emulator",
]
