"""The chat page in headless Chromium: one full registration clicked through at phone width.

The stack runs in this process as in `cetbot demo` (emulator + aiogram bot on the seeded
SQLite database); the browser only sees the page. Buttons are found by the action code in
the transcript (the conversation's contract) and then clicked by their visible label, as a
person would. The run writes `test-artifacts/chat-registration.png`; with
CETBOT_DOCS_SCREENSHOTS=1 also `docs/chat-registration-zh.png` (the one in the README).

Needs Debian's `chromium` (Makefile DEBIAN_PACKAGES) and the `playwright` package, never a
browser download: missing ones fail the test under CI=true and skip it elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.app import BotApp
from cetbot.demo import clock_hook
from emulator.client import EmulatorClient
from emulator.server import RunningEmulator
from outgoing.mailer import MailboxMailer
from tests.e2e.conftest import TOKEN, BotHarness, real_engine, real_engine_available

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page

pytestmark = [
    pytest.mark.skipif(not real_engine_available(), reason="bot/conversation/engine.py not there"),
    pytest.mark.parametrize("framework", ["aiogram"], indirect=True),
]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "chat-registration.png"
DOCS_SHOT = ROOT / "docs" / "chat-registration-zh.png"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
EMAIL = "zhangwei.page@example.com"
PASSWORD = "Cet2026_page!"
# examples/README.md: the plain path (roster line 2).
NAME, ID_NUMBER = "张伟", "110108200503140231"
STEP_TIMEOUT = 15.0


def _unavailable(reason: str) -> None:
    """Under CI a missing browser is a broken setup, not a reason to skip."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"chat page test cannot run: {reason}", pytrace=False)
    print(f"\nskipping the chat page test: {reason}", file=sys.stderr)
    pytest.skip(reason)


def _chromium_installed() -> bool:
    # Debian's package, at the path the launch names: playwright never downloads its own.
    return Path(CHROMIUM).is_file()


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("the python package `playwright` is not installed (pip install -e '.[test]')")
    if not _chromium_installed():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium, or `make system-deps`)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(
                viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
            )
            yield await context.new_page()
        finally:
            await browser.close()


class PageUser:
    """A person at the chat page; the emulator and the bot are read only to know when the
    bot has answered and which label a step's button has."""

    def __init__(self, page: Page, em: EmulatorClient, app: BotApp, emulator: RunningEmulator):
        self.page = page
        self.em = em
        self.app = app
        self.bot = emulator.state.bot(TOKEN)
        self.user_id = 0

    async def create_user(self, first_name: str) -> None:
        await self.page.get_by_role("button", name="新用户").click()
        dialog = self.page.locator("#user-dialog")
        await dialog.locator("[name=first_name]").fill(first_name)
        await dialog.locator("[name=language_code]").select_option("zh-hans")
        before = {u["id"] for u in await self.em.users()}
        await dialog.get_by_role("button", name="创建").click()
        created = await self._until(
            lambda: self._new_user(before), f"the page creating user {first_name}"
        )
        self.user_id = int(created)
        await self.page.locator("#user-select").filter(has_text=first_name).wait_for()

    async def _new_user(self, before: set[int]) -> int | None:
        fresh = [u["id"] for u in await self.em.users() if u["id"] not in before]
        return fresh[0] if fresh else None

    async def type(self, text: str) -> None:
        """Types into the composer and sends, then waits for the bot's answer on the page."""
        await self._acting(self._type(text))

    async def _type(self, text: str) -> None:
        box = self.page.locator("#text")
        await box.fill(text)
        await box.press("Enter")

    async def click(self, action: str, *args: str, label_has: str = "") -> str:
        """Clicks the button of the latest menu whose callback data names `action`."""
        message_id, label = await self._until(
            lambda: self._offered(action, args, label_has), f"a button for {action} {args}"
        )
        row = self.page.locator(f'#messages .row.bot[data-message-id="{message_id}"]')
        button = row.get_by_role("button", name=label, exact=True)
        await self._acting(button.first.click())
        return label

    async def actions(self) -> list[str]:
        latest = await self._latest_menu()
        return [_action(b) for b in _buttons(latest)] if latest else []

    async def last_text(self) -> str:
        bot = [m for m in await self._visible() if m["sender"] == "bot" and m["text"]]
        return str(bot[-1]["text"]) if bot else ""

    async def _offered(self, action: str, args: tuple[str, ...], label_has: str) -> Any:
        latest = await self._latest_menu()
        for button in _buttons(latest) if latest else []:
            parts = str(button.get("callback_data") or "").split(":")
            if (
                parts[2:3] == [action]
                and tuple(parts[3 : 3 + len(args)]) == args
                and label_has in button["text"]
            ):
                return latest["message_id"], button["text"]  # type: ignore[index]
        return None

    async def _latest_menu(self) -> dict[str, Any] | None:
        menus = [m for m in await self._visible() if m["sender"] == "bot" and m.get("keyboard")]
        return menus[-1] if menus else None

    async def _visible(self) -> list[dict[str, Any]]:
        return await self.em.transcript(self.user_id, include_deleted=False)

    async def _acting(self, act: Any) -> None:
        """Does what the person does, then waits until the bot carried the update out and
        the page shows the bot's answer (the page polls the emulator every 0.7 s)."""
        before = self.bot.next_update_id
        await act
        await self._until(
            lambda: _true(self.bot.next_update_id > before), "the page's update to arrive"
        )
        await self.app.adapter.runner.wait_processed(self.bot.next_update_id - 1, STEP_TIMEOUT)
        await self._until(self._page_caught_up, "the page to show the bot's answer")

    async def _page_caught_up(self) -> bool:
        visible = await self._visible()
        shown = await self.page.locator("#messages .row").evaluate_all(
            "rows => rows.map(r => r.dataset.messageId + ':' + r.innerText.length)"
        )
        ids = [s.split(":")[0] for s in shown]
        return ids == [str(m["message_id"]) for m in visible]

    async def _until(self, probe: Callable[[], Any], what: str) -> Any:
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            found = await probe()
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; bot said {await self._said()}")
            await asyncio.sleep(0.1)

    async def _said(self) -> str:
        return repr(await self.last_text()) if self.user_id else "nothing (no user yet)"


async def _true(value: bool) -> bool:
    return value


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in message.get("keyboard") or [] for b in row]


def _action(button: dict[str, Any]) -> str:
    parts = str(button.get("callback_data") or "").split(":")
    return parts[2] if len(parts) > 2 else ""


async def test_a_registration_clicked_through_on_the_phone_page(
    harness: BotHarness,
    sqlite_url: str,
    emulator: RunningEmulator,
    em: EmulatorClient,
    mailbox: MailboxMailer,
    page: Page,
) -> None:
    app = await harness.polling(harness.build(sqlite_url, engine=real_engine))
    emulator.register_clock(clock_hook(app.clock))  # as the demo does: the page shows the control
    await page.goto(emulator.url + "/")
    person = PageUser(page, em, app, emulator)

    await person.create_user("小张")
    await person.type("/start")
    await person.click("reg")
    await person.click("signup")  # R7, R9: the pass account first
    await person.type(EMAIL)
    await person.type(PASSWORD)  # R8: deleted by the bot right after reading
    [mail] = mailbox.to(EMAIL)
    code = re.search(r"\b(\d{6})\b", mail.body)
    assert code is not None, mail.body
    await person.type(code.group(1))
    if "agree" not in await person.actions():
        await person.click("goreg")
    await person.click("agree")  # R11
    await person.click("idt", "id_card")
    await person.type(NAME)
    await person.type(ID_NUMBER)
    assert NAME in await person.last_text()
    await person.click("confirm")
    await person.click("usephone")
    await person.click("subj", "CET4")
    await person.click("camp", label_has="海淀")
    if "paper" in await person.actions():
        await person.click("paper")
    await person.click("pay")

    pay_link = page.locator("#messages .kb-row a").last
    await pay_link.wait_for()
    assert "¥" in await pay_link.inner_text()
    assert await page.locator("#messages .row").count() > 0
    await _no_horizontal_scroll(page)
    await _shoot(page, await _user_message_bodies(page))


async def _user_message_bodies(page: Page) -> list[str]:
    return await page.locator("#messages .row.user .bubble").all_inner_texts()


async def _no_horizontal_scroll(page: Page) -> None:
    """On a phone nothing may stick out sideways (long IDs, the user bar, keyboards)."""
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    wide: Locator = page.locator("#messages .row")
    widths = await wide.evaluate_all("rows => rows.map(r => r.getBoundingClientRect().right)")
    assert max(widths) <= PHONE["width"], widths


async def _shoot(page: Page, user_lines: list[str]) -> None:
    # The password was deleted by the bot (R8): the screenshot must not show it.
    assert not any(PASSWORD in line for line in user_lines), user_lines
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACT))
    if os.environ.get("CETBOT_DOCS_SCREENSHOTS") == "1":
        DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(DOCS_SHOT))
