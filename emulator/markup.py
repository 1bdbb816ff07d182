"""Validation of reply_markup objects with Telegram's error wording."""

from __future__ import annotations

from typing import Any

from emulator.errors import ApiError

_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100


def validate_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """Check a reply_markup and return it normalised, or raise ApiError(400)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _validate_inline(markup["inline_keyboard"])}
    if inline_only:
        raise ApiError(400, "Bad Request: inline keyboard expected")
    if "keyboard" in markup:
        return _validate_reply_keyboard(markup)
    if markup.get("remove_keyboard") is True:
        return {"remove_keyboard": True}
    if markup.get("force_reply") is True:
        return {k: v for k, v in markup.items() if k in ("force_reply", "input_field_placeholder")}
    raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")


def _validate_inline(rows: Any) -> list[list[dict[str, Any]]]:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(
            400, "Bad Request: can't parse inline keyboard button: InlineKeyboardButton expected"
        )
    total = 0
    clean: list[list[dict[str, Any]]] = []
    for row in rows:
        clean_row = []
        for button in row:
            if not isinstance(button, dict):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "InlineKeyboardButton must be an Object",
                )
            text = button.get("text")
            if not isinstance(text, str) or not text.strip():
                raise ApiError(
                    400, "Bad Request: can't parse inline keyboard button: Text must be non-empty"
                )
            actions = [k for k in _INLINE_ACTIONS if button.get(k) is not None]
            if not actions:
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            if len(actions) > 1:
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: exactly one of the optional "
                    f"fields must be used, found {', '.join(actions)}",
                )
            if "callback_data" in actions:
                data = button["callback_data"]
                if not isinstance(data, str) or not (
                    1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if "url" in actions:
                url = button["url"]
                if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
                    raise ApiError(
                        400,
                        f"Bad Request: inline keyboard button URL '{url}' is invalid: "
                        "Wrong HTTP URL",
                    )
            clean_row.append({k: v for k, v in button.items() if v is not None})
            total += 1
        if clean_row:
            clean.append(clean_row)
    if total > MAX_INLINE_BUTTONS:
        raise ApiError(400, "Bad Request: reply markup is too long")
    return clean


def _validate_reply_keyboard(markup: dict[str, Any]) -> dict[str, Any]:
    rows = markup["keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(400, "Bad Request: can't parse keyboard button: KeyboardButton expected")
    clean_rows = []
    for row in rows:
        clean_row = []
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                raise ApiError(
                    400, "Bad Request: can't parse keyboard button: Text must be non-empty"
                )
            clean_row.append({k: v for k, v in button.items() if v is not None})
        clean_rows.append(clean_row)
    result = {k: v for k, v in markup.items() if v is not None}
    result["keyboard"] = clean_rows
    return result
