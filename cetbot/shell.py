"""What every `cetbot` subcommand shares: the operator's language, printing, one unit
of work per command, and the `admin` command group.

Its own module so that `cetbot.cli` and the commands defined beside it
(`cetbot.admin_cli`) both import it instead of each other."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from foundation.i18n import pick_locale, t
from foundation.settings import Settings
from registration import errors
from storage.db import Database, UnitOfWork

T = TypeVar("T")

admin_app = typer.Typer(no_args_is_help=True)
console = Console()


def _locale() -> str:
    # Operators read messages in their shell's language (LANG=zh_CN.UTF-8 -> zh).
    return pick_locale(os.environ.get("CETBOT_LANG") or os.environ.get("LANG"))


def say(key: str, **args: Any) -> None:
    console.print(t(_locale(), key, args), highlight=False)


def fail(key: str, code: int = 1, **args: Any) -> typer.Exit:
    console.print(f"[red]{t(_locale(), key, args)}[/red]", highlight=False)
    return typer.Exit(code)


def _run(settings: Settings, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    async def go() -> T:
        db = Database(settings.database_url)
        try:
            async with db.uow() as uow:
                uow.actor, uow.clock = "cli", settings.clock()  # the audit's "who" and "when"
                return await work(uow)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except errors.DomainError as refused:
        raise fail(f"error-{refused.code}", **_printable(refused.params)) from None


def _printable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, int | str) else str(v)) for k, v in params.items()}


async def _session_id(uow: UnitOfWork, code: str | None) -> int:
    if code is None:
        sessions = await uow.sessions.all()
        if not sessions:
            raise errors.NotFound(what="session")
        return sessions[0].id
    session = await uow.sessions.by_code(code)
    if session is None:
        raise errors.NotFound(what=f"session {code}")
    return session.id
