"""Writes docs/transcript-zh.md: one full registration in Chinese, as the chat shows it.

Run: .venv/bin/python scripts/transcript.py [--out docs/transcript-zh.md] [--framework aiogram]

Drives the real stack in this process, as `cetbot demo` does: the emulator, the bot (its
adapter, runner and conversations) on a fresh SQLite file with the example session, the
clock frozen at the demo's "today". A demo candidate (the first row of
examples/roster.csv) goes from /start through sign-up (the code read from the mailbox),
the eligibility lookup and the CET4 entry to the pay link. After every step the
emulator's transcript is compared with the one before, so edits in place show as edits.
The password and the ID number are shown masked: the bot deletes those messages (R8), and
docs should not carry them either.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.app import BotApp, create_app  # noqa: E402
from cetbot.demo import DEMO_NOW, seed_example_session  # noqa: E402
from emulator.client import EmulatorClient  # noqa: E402
from emulator.server import start_emulator  # noqa: E402
from foundation.clock import FrozenClock  # noqa: E402
from foundation.i18n import t  # noqa: E402
from foundation.settings import Settings  # noqa: E402
from outgoing.mailer import MailboxMailer  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402


def _t(key: str, **args: str) -> str:
    return t("zh", key, args)


def _first_candidate() -> tuple[str, str]:
    """The first demo candidate of the example roster: (name, ID number)."""
    with (ROOT / "examples" / "roster.csv").open(encoding="utf-8-sig", newline="") as f:
        row = next(csv.DictReader(f))
    return row["name"], row["id_number"]


TOKEN = "777000111:transcript-token"
USER = 8001
EMAIL = "zhangwei@example.com"
PASSWORD = "Cet2026_pass!"
NAME, ID_NUMBER = _first_candidate()
HIDDEN = {PASSWORD: "••••••••", ID_NUMBER: ID_NUMBER[:6] + "••••••••" + ID_NUMBER[-4:]}


class Recorder:
    """Acts as the candidate and writes down what each side said, step by step."""

    def __init__(self, em: EmulatorClient, app: BotApp, mailbox: MailboxMailer) -> None:
        self.em = em
        self.app = app
        self.mailbox = mailbox
        self.lines: list[str] = []
        self.seen: dict[int, dict[str, Any]] = {}

    async def say(self, text: str, shown: str | None = None) -> None:
        shown = shown or HIDDEN.get(text, text)
        self.lines.append(_t("transcript-candidate", text=shown))
        sent = await self.em.user_says(USER, text)
        await self._settle(sent["update_id"])

    async def command(self, name: str) -> None:
        self.lines.append(_t("transcript-candidate", text=f"/{name}"))
        sent = await self.em.command(USER, name)
        await self._settle(sent["update_id"])

    async def press(self, action: str, *args: str, label_has: str = "") -> None:
        latest = await self._latest_menu()
        for button in [b for row in latest.get("keyboard") or [] for b in row]:
            parts = str(button.get("callback_data") or "").split(":")
            if (
                parts[2:3] == [action]
                and tuple(parts[3 : 3 + len(args)]) == args
                and label_has in button["text"]
            ):
                self.lines.append(_t("transcript-press", label=button["text"]))
                pressed = await self.em.press(USER, latest["message_id"], button["callback_data"])
                await self._settle(pressed["update_id"])
                return
        raise RuntimeError(f"no button for {action} {args} in {latest.get('text')!r}")

    async def actions(self) -> list[str]:
        latest = await self._latest_menu()
        return [
            str(b.get("callback_data") or "").split(":")[2:3][0]
            for row in latest.get("keyboard") or []
            for b in row
            if str(b.get("callback_data") or "").count(":") >= 2
        ]

    def code(self) -> str:
        [mail] = self.mailbox.to(EMAIL)
        found = re.search(r"\b(\d{6})\b", mail.body)
        assert found is not None, mail.body
        return found.group(1)

    async def _latest_menu(self) -> dict[str, Any]:
        messages = await self.em.transcript(USER, include_deleted=False)
        menus = [m for m in messages if m["sender"] == "bot" and m.get("keyboard")]
        assert menus, "the bot has shown no buttons"
        return menus[-1]

    async def _settle(self, update_id: int) -> None:
        await self.app.adapter.runner.wait_processed(update_id, 20)
        for message in await self.em.transcript(USER):
            before = self.seen.get(message["message_id"])
            self.seen[message["message_id"]] = message
            if message["sender"] == "user":
                if message["deleted"] and (before is None or not before["deleted"]):
                    self.lines.append(_t("transcript-user-deleted"))
                continue
            if before is None:
                self._bot(message, "")
            elif message["deleted"] and not before["deleted"]:
                self.lines.append(_t("transcript-bot-deleted"))
            elif (message["text"], message["keyboard"]) != (before["text"], before["keyboard"]):
                self._bot(message, _t("transcript-edited"))

    def _bot(self, message: dict[str, Any], how: str) -> None:
        if message.get("photo"):
            body = _t("transcript-photo") + (
                f"：{message['caption']}" if message.get("caption") else ""
            )
        elif message.get("document"):
            body = f"📄 {message['document'].get('file_name', '')}"
        else:
            body = str(message["text"] or "")
        for secret, mask in HIDDEN.items():
            body = body.replace(secret, mask)
        quoted = "\n".join(f"> {line}" if line else ">" for line in body.splitlines())
        self.lines.append(_t("transcript-bot", how=how) + f"\n\n{quoted}")
        keyboard = message.get("keyboard") or []
        if keyboard:
            rows = [
                " ".join(
                    f"[{b['text']}]({_stable(b['url'])})" if b.get("url") else f"〔{b['text']}〕"
                    for b in row
                )
                for row in keyboard
            ]
            self.lines.append("\n".join(f"> {row}  " for row in rows))


def _stable(url: str) -> str:
    """A payment link carries a fresh payment id and signature: keep only its page."""
    return url.split("?", 1)[0].rsplit("/", 1)[0] + "/…"


async def walk(rec: Recorder) -> None:
    """The main path of tests/e2e/test_main_path.py, written down."""
    await rec.command("start")
    await rec.press("reg")
    await rec.press("signup")
    await rec.say(EMAIL)
    await rec.say(PASSWORD)
    # The code is random: masked, so that running the script again changes nothing.
    await rec.say(rec.code(), _t("transcript-code"))
    if "agree" not in await rec.actions():
        await rec.press("goreg")
    await rec.press("agree")
    await rec.press("idt", "id_card")
    await rec.say(NAME)
    await rec.say(ID_NUMBER)
    await rec.press("confirm")
    await rec.press("usephone")
    await rec.press("subj", "CET4")
    await rec.press("camp")  # the first campus offered: the candidate's own
    if "paper" in await rec.actions():
        await rec.press("paper")
    await rec.press("pay")


async def record(framework: str) -> list[str]:
    work = Path(tempfile.mkdtemp(prefix="cetbot-transcript-"))
    try:
        url = f"sqlite+aiosqlite:///{work / 'transcript.db'}"
        await migrate.upgrade(url)
        database = Database(url)
        clock = FrozenClock(DEMO_NOW)
        await seed_example_session(database, clock.now().date())
        emulator = await start_emulator(port=0, default_token=TOKEN)
        mailbox = MailboxMailer()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=TOKEN,
            telegram_api_url=emulator.url,
            bot_framework=framework,
            database_url=url,
            data_dir=work / "data",
        )
        app = create_app(settings, clock=clock, mailer=mailbox, database=database)
        polling = asyncio.create_task(app.run_polling(poll_timeout=1))
        try:
            await app.startup()
            async with EmulatorClient(emulator.url, token=TOKEN) as em:
                await em.create_user(USER, _t("transcript-user-name"), language_code="zh-hans")
                rec = Recorder(em, app, mailbox)
                await walk(rec)
                return rec.lines
        finally:
            app.request_stop()
            await asyncio.wait_for(polling, 30)
            await emulator.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def render(lines: list[str], framework: str) -> str:
    when = DEMO_NOW.isoformat(timespec="minutes")
    head = [
        _t("transcript-title"),
        "",
        _t("transcript-intro", framework=framework, when=when, name=NAME),
        "",
        "---",
        "",
        "",
    ]
    return "\n".join(head) + "\n\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "transcript-zh.md")
    parser.add_argument("--framework", default="aiogram", choices=["aiogram", "ptb"])
    args = parser.parse_args()
    lines = asyncio.run(record(args.framework))
    args.out.write_text(render(lines, args.framework), encoding="utf-8")
    print(f"wrote {args.out} ({len(lines)} entries)")


if __name__ == "__main__":
    main()
