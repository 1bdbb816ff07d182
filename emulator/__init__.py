"""Local fake Telegram Bot API server with a control API, a test client and a chat page."""

from emulator.client import EmulatorClient, EmulatorError, EmulatorTimeout
from emulator.config import EmulatorConfig, RateLimitConfig
from emulator.server import RunningEmulator, create_app, start_emulator

__all__ = [
    "EmulatorClient",
    "EmulatorConfig",
    "EmulatorError",
    "EmulatorTimeout",
    "RateLimitConfig",
    "RunningEmulator",
    "create_app",
    "start_emulator",
]
