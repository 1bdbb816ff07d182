"""R38: short-lived signed links to a ticket's PDF (for WeChat, which sends no files),
served over real HTTP by the bot's route: the PDF for a good link, 403 for a forged or
altered one, 410 for an expired one or a ticket revoked since. Each attack is performed."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader

from admission import tickets
from admission.ticket_link_app import create_ticket_link_app
from admission.ticket_links import (
    LINK_LIFETIME,
    LinkRefused,
    MissingPublicUrl,
    link_key,
    make_token,
    read_token,
    ticket_link,
)
from foundation.i18n import t
from foundation.settings import Settings
from tests.rules.conftest import World

from .helpers import Candidate, at_written_print, candidate


@dataclass
class Served:
    base: str  # the PUBLIC_URL the links point at
    http: aiohttp.ClientSession
    key: Ed25519PrivateKey


@pytest.fixture
async def served(world: World, settings: Settings) -> AsyncIterator[Served]:
    key = tickets.signing_key(settings)
    runner = web.AppRunner(
        create_ticket_link_app(world.db, world.clock, lambda: link_key(key)), access_log=None
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        yield Served(f"http://127.0.0.1:{port}", http, key)
    await runner.cleanup()


async def paid_tickets(
    world: World, settings: Settings, names: tuple[str, ...], locale: str = "zh"
) -> list[Candidate]:
    """Candidates whose CET-4 ticket PDFs were drawn and stored (as sending them does)."""
    paid = [await candidate(world, ("CET4",), name=name) for name in names]
    at_written_print(world)
    for c in paid:
        async with world.db.uow() as uow:
            await tickets.ticket_documents(
                uow,
                world.clock,
                registration_id=c.registration.id,
                locale=locale,
                settings=settings,
            )
            await uow.commit()
    return paid


async def paid_ticket(world: World, settings: Settings, locale: str = "zh") -> Candidate:
    return (await paid_tickets(world, settings, ("王芳",), locale))[0]


def link_for(served: Served, world: World, c: Candidate, locale: str = "zh") -> str:
    return ticket_link(
        served.key, served.base, world.clock.now(), entry_id=c.entries["CET4"].id, locale=locale
    )


async def get(served: Served, url: str) -> tuple[int, bytes, aiohttp.ClientResponse]:
    async with served.http.get(url, allow_redirects=False) as resp:
        return resp.status, await resp.read(), resp


def with_token(url: str, token: str) -> str:
    return url.rsplit("/", 1)[0] + f"/{token}.pdf"


def token_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1].removesuffix(".pdf")


@pytest.mark.parametrize("locale", ["zh", "en"])
async def test_r38_a_fresh_link_answers_the_stored_pdf(
    world: World, settings: Settings, served: Served, locale: str
) -> None:
    c = await paid_ticket(world, settings, locale)
    url = link_for(served, world, c, locale)
    assert url.startswith(served.base + "/tickets/") and url.endswith(".pdf")
    status, body, resp = await get(served, url)
    assert status == 200
    assert resp.content_type == "application/pdf"
    async with world.db.uow(readonly=True) as uow:
        entry_id = c.entries["CET4"].id
        stored = (await uow.tickets.files([entry_id], locale))[entry_id]
        issued = (await uow.tickets.of_entries([entry_id]))[entry_id]
    assert body == stored.pdf
    assert issued.ticket_no in PdfReader(io.BytesIO(body)).pages[0].extract_text()
    # Never kept by a shared cache; named as the chat names it.
    assert "no-store" in resp.headers["Cache-Control"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    disposition = unquote(resp.headers["Content-Disposition"])
    assert t(locale, "ticket-filename", {"subject": "CET4", "ticket": issued.ticket_no}) in (
        disposition
    )


async def test_r38_a_link_still_works_just_before_it_expires(
    world: World, settings: Settings, served: Served
) -> None:
    c = await paid_ticket(world, settings)
    url = link_for(served, world, c)
    world.clock.advance(LINK_LIFETIME - timedelta(seconds=2))
    assert (await get(served, url))[0] == 200


async def test_r38_an_expired_link_is_gone(
    world: World, settings: Settings, served: Served
) -> None:
    c = await paid_ticket(world, settings)
    url = link_for(served, world, c)
    world.clock.advance(LINK_LIFETIME)
    status, body, _ = await get(served, url)
    assert status == 410
    assert body.decode().startswith(t("zh", "ticket-link-expired"))
    assert b"%PDF" not in body


async def test_r38_an_altered_entry_id_is_refused_as_forged(
    world: World, settings: Settings, served: Served
) -> None:
    # Two candidates with tickets: the first edits their own link to name the second's.
    mine, theirs = await paid_tickets(world, settings, ("王芳", "张伟"))
    url = link_for(served, world, mine)
    entry, rest = token_of(url).split(".", 1)
    assert entry == str(mine.entries["CET4"].id)
    forged = with_token(url, f"{theirs.entries['CET4'].id}.{rest}")
    status, body, _ = await get(served, forged)
    assert status == 403
    assert body.decode().startswith(t("zh", "ticket-link-forged"))
    # The route would serve that PDF to a link signed for it: only the tag stood between.
    assert (await get(served, link_for(served, world, theirs)))[0] == 200


async def test_r38_a_stretched_expiry_is_refused_as_forged_not_expired(
    world: World, settings: Settings, served: Served
) -> None:
    c = await paid_ticket(world, settings)
    url = link_for(served, world, c)
    entry, locale, expires, tag = token_of(url).split(".")
    world.clock.advance(LINK_LIFETIME + timedelta(minutes=1))
    later = str(int(expires) + 86_400)
    assert (await get(served, with_token(url, f"{entry}.{locale}.{later}.{tag}")))[0] == 403
    # The untouched link is merely expired.
    assert (await get(served, url))[0] == 410


async def test_r38_another_locale_on_the_same_tag_is_refused(
    world: World, settings: Settings, served: Served
) -> None:
    c = await paid_ticket(world, settings)
    url = link_for(served, world, c, "zh")
    entry, _, expires, tag = token_of(url).split(".")
    assert (await get(served, with_token(url, f"{entry}.en.{expires}.{tag}")))[0] == 403


async def test_r38_a_link_made_with_another_key_is_refused(
    world: World, settings: Settings, served: Served
) -> None:
    c = await paid_ticket(world, settings)
    stranger = Ed25519PrivateKey.generate()
    url = ticket_link(
        stranger, served.base, world.clock.now(), entry_id=c.entries["CET4"].id, locale="zh"
    )
    assert (await get(served, url))[0] == 403


@pytest.mark.parametrize(
    "token",
    [
        "",
        "1",
        "1.zh.9999999999",
        "1.zh.9999999999.",
        "1.xx.9999999999.AAAAAAAAAAAAAAAAAAAAAA",
        "01.zh.9999999999.AAAAAAAAAAAAAAAAAAAAAA",
        "1.zh.9999999999.AAAAAAAAAAAAAAAAAAAAAA",
        "1.zh.9999999999.AAAAAAAAAAAAAAAAAAAAAAA",
        "-1.zh.9999999999.AAAAAAAAAAAAAAAAAAAAAA",
        "1.zh.9999999999.AAAAAAAAAAAAAAAAAAAAA%3D",
        "..%2F..%2Fetc%2Fpasswd",
    ],
)
async def test_r38_garbage_and_guessed_tokens_are_refused(
    world: World, settings: Settings, served: Served, token: str
) -> None:
    await paid_ticket(world, settings)
    status, body, _ = await get(served, f"{served.base}/tickets/{token}.pdf")
    assert status in (403, 404)  # 404: aiohttp found no route for an empty name
    assert b"%PDF" not in body


async def test_r38_a_link_without_the_pdf_suffix_is_refused(
    world: World, settings: Settings, served: Served
) -> None:
    c = await paid_ticket(world, settings)
    url = link_for(served, world, c)
    assert (await get(served, url.removesuffix(".pdf")))[0] == 403


async def test_r38_a_ticket_revoked_after_the_link_was_sent_is_gone(
    world: World, settings: Settings, served: Served
) -> None:
    c = await paid_ticket(world, settings)
    url = link_for(served, world, c)
    assert (await get(served, url))[0] == 200
    async with world.db.uow() as uow:
        issued = (await uow.tickets.of_entries([c.entries["CET4"].id]))[c.entries["CET4"].id]
        await tickets.revoke_ticket(uow, world.clock, ticket_no=issued.ticket_no, reason="test")
        await uow.commit()
    status, body, _ = await get(served, url)
    assert status == 410
    assert body.decode().startswith(t("zh", "ticket-link-gone"))


async def test_the_tag_is_checked_in_full() -> None:
    key = link_key(Ed25519PrivateKey.generate())
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    token = make_token(key, entry_id=7, locale="zh", expires_at=now + timedelta(minutes=30))
    assert read_token(key, token, now).entry_id == 7
    body, tag = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(tag + "=="))
    for i in range(len(raw)):  # every byte of the tag matters
        flipped = bytearray(raw)
        flipped[i] ^= 0x01
        bad = base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode()
        with pytest.raises(LinkRefused) as refused:
            read_token(key, f"{body}.{bad}", now)
        assert refused.value.reason == "forged"


def test_a_link_needs_a_public_url() -> None:
    key = Ed25519PrivateKey.generate()
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    for missing in (None, "", "not a url"):
        with pytest.raises(MissingPublicUrl):
            ticket_link(key, missing, now, entry_id=1, locale="zh")
    url = ticket_link(key, "https://bot.example.edu.cn/", now, entry_id=1, locale="zh")
    assert url.startswith("https://bot.example.edu.cn/tickets/1.zh.")
