"""Platform-neutral pieces of turning an update into an Event (shared by both adapters)."""

from __future__ import annotations

# The update kinds the conversations use; anything else is not even fetched.
ALLOWED_UPDATES = ["message", "callback_query"]


def split_command(text: str, starts_with_command_entity: bool) -> tuple[str, str] | None:
    """("start", "args") for "/start@CetBot args"; None when the text is not a command.

    Telegram marks commands with a bot_command entity at offset 0; without one (e.g. "/ 1")
    the text is ordinary input.
    """
    if not starts_with_command_entity or not text.startswith("/"):
        return None
    head, _, args = text.partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    if not name:
        return None
    return name, args.strip()
