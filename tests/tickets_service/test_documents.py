"""R38: ticket PDFs from the database: fields, cache, file ids, pre-rendering, revocation."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from admission import tickets
from admission.ticket_pdf import TicketView
from admission.ticket_signing import TicketClaims, export_public_key_pem, sign_ticket
from cetbot.cli import app
from cetbot.ticket_cli import ticket_app
from foundation.settings import Settings
from registration import errors
from tests.rules.conftest import World

from .helpers import Candidate, assign, at_written_print, candidate

runner = CliRunner()


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


async def documents(
    world: World, c: Candidate, settings: Settings, locale: str = "zh"
) -> list[tickets.TicketDocument]:
    async with world.db.uow() as uow:
        docs = await tickets.ticket_documents(
            uow,
            world.clock,
            registration_id=c.registration.id,
            locale=locale,
            settings=settings,
        )
        await uow.commit()
    return docs


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the pages actually drawn (ticket numbers), through the real renderer."""
    drawn: list[str] = []
    real = tickets.render_ticket

    def counting(view: TicketView, locale: str) -> bytes:
        drawn.append(view.ticket_no)
        return real(view, locale)

    monkeypatch.setattr(tickets, "render_ticket", counting)
    return drawn


@pytest.mark.parametrize("locale", ["zh", "en"])
async def test_r38_pdf_shows_ticket_number_room_seat_in_the_locale(
    world: World, settings: Settings, locale: str
) -> None:
    c = await candidate(world, ("CET4",), name="李娜")
    at_written_print(world)
    [doc] = await documents(world, c, settings, locale)
    async with world.db.uow(readonly=True) as uow:
        ticket = (await uow.tickets.of_entries([c.entries["CET4"].id]))[c.entries["CET4"].id]
    text = pdf_text(doc.pdf)
    assert ticket.ticket_no in text and ticket.ticket_no in doc.filename
    assert "001" in text and ticket.room == "001" and ticket.seat == 1
    assert "李娜" in text
    assert doc.filename.endswith(".pdf") and doc.file_id is None
    if locale == "zh":
        assert "准考证" in text and "英语四级" in text and "北京示范大学海淀校区" in text
    else:
        assert "Admission Ticket" in text and "CET Band 4 (English)" in text
        assert "Haidian Campus" in text
    masked = c.record.id_number[:6] + "*" * 8 + c.record.id_number[-4:]
    assert masked in text and c.record.id_number not in text


async def test_r38_cached_pdf_is_served_without_drawing_again(
    world: World, settings: Settings, renders: list[str]
) -> None:
    c = await candidate(world, ("CET4",))
    at_written_print(world)
    first = await documents(world, c, settings)
    assert len(renders) == 1
    async with world.db.uow(readonly=True) as uow:
        stored = await uow.tickets.files([c.entries["CET4"].id], "zh")
    world.clock.advance(timedelta(hours=1))
    second = await documents(world, c, settings)
    assert len(renders) == 1  # nothing drawn the second time
    assert second == first
    async with world.db.uow(readonly=True) as uow:
        again = await uow.tickets.files([c.entries["CET4"].id], "zh")
    assert again == stored  # same bytes, same rendered_at
    await documents(world, c, settings, "en")  # another locale is its own PDF
    assert len(renders) == 2


async def test_r38_file_id_is_remembered_per_locale(world: World, settings: Settings) -> None:
    c = await candidate(world, ("CET4",))
    at_written_print(world)
    [doc] = await documents(world, c, settings)
    async with world.db.uow() as uow:
        assert await tickets.remember_file_id(
            uow, entry_id=doc.entry_id, locale="zh", file_id="BQACAgIAAxkB-zh"
        )
        # Nothing stored in English yet: nothing to attach the id to.
        assert not await tickets.remember_file_id(
            uow, entry_id=doc.entry_id, locale="en", file_id="x"
        )
        await uow.commit()
    [again] = await documents(world, c, settings)
    assert again.file_id == "BQACAgIAAxkB-zh" and again.pdf == doc.pdf
    [english] = await documents(world, c, settings, "en")
    assert english.file_id is None


async def test_r38_prerender_draws_every_ticket_once_in_both_locales(
    world: World, settings: Settings, renders: list[str]
) -> None:
    people = [await candidate(world, ("CET4",)) for _ in range(3)]
    unpaid = await candidate(world, ("CET4",), paid=False)
    at_written_print(world)
    assert await assign(world) == 3
    done = 0
    while True:
        async with world.db.uow() as uow:
            n = await tickets.prerender(
                uow, world.clock, session_id=world.session_id, settings=settings, limit=4
            )
            await uow.commit()
        if n == 0:
            break
        done += n
    assert done == 6 and len(renders) == 6
    for c in people:
        await documents(world, c, settings)
        await documents(world, c, settings, "en")
    assert len(renders) == 6  # all served from the database
    async with world.db.uow(readonly=True) as uow:
        assert not await uow.tickets.files([unpaid.entries["CET4"].id], "zh")


async def test_r38_revoked_ticket_is_not_sent_and_fails_offline_verification(
    world: World, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = await candidate(world, ("CET4",))
    keep = await candidate(world, ("CET4",))
    at_written_print(world)
    await documents(world, c, settings)
    await documents(world, keep, settings)
    async with world.db.uow(readonly=True) as uow:
        entry_id = c.entries["CET4"].id
        ticket = (await uow.tickets.of_entries([entry_id]))[entry_id]
    # The QR payload on the ticket (Ed25519 signatures are deterministic).
    payload = sign_ticket(
        tickets.signing_key(settings),
        TicketClaims.for_candidate(
            ticket_no=ticket.ticket_no,
            session="2026-12",
            subject="CET4",
            room=ticket.room,
            seat=ticket.seat,
            id_number=c.record.id_number,
        ),
    )
    public = tmp_path / "public.pem"
    public.write_text(export_public_key_pem(tickets.signing_key(settings)))
    ok = runner.invoke(ticket_app, ["verify", payload, "--public-key", str(public)])
    assert ok.exit_code == 0, ok.output

    async with world.db.uow() as uow:
        revoked = await tickets.revoke_ticket(
            uow, world.clock, ticket_no=ticket.ticket_no, reason="duplicate candidate"
        )
        await uow.commit()
    assert revoked.revoked_at == world.clock.now()
    with pytest.raises(errors.NotFound):
        await documents(world, c, settings)
    assert len(await documents(world, keep, settings)) == 1

    # The operator's command, as run from a shell (it opens its own event loop).
    revoked_file = tmp_path / "revoked.txt"
    monkeypatch.setenv("DATABASE_URL", world.db.url)
    monkeypatch.setenv("CETBOT_LANG", "en")
    result = await asyncio.to_thread(
        runner.invoke, app, ["admin", "export-revoked", str(revoked_file)]
    )
    assert result.exit_code == 0, result.output
    assert revoked_file.read_text().split() == [ticket.ticket_no]
    bad = runner.invoke(
        ticket_app,
        ["verify", payload, "--public-key", str(public), "--revoked", str(revoked_file)],
    )
    assert bad.exit_code == 1 and bad.output.splitlines()[0] == "invalid: revoked"


async def test_r38_revoking_an_unknown_number_is_refused(world: World) -> None:
    async with world.db.uow() as uow:
        with pytest.raises(errors.NotFound):
            await tickets.revoke_ticket(
                uow, world.clock, ticket_no="000000000000000", reason="typo"
            )


async def test_r38_cli_assign_seats(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await candidate(world, ("CET4",))
    monkeypatch.setenv("DATABASE_URL", world.db.url)
    monkeypatch.setenv("CETBOT_NOW", "2026-12-07T02:00:00+00:00")
    monkeypatch.setenv("CETBOT_LANG", "en")
    result: Any = await asyncio.to_thread(
        runner.invoke, app, ["admin", "assign-seats", "--session", "2026-12"]
    )
    assert result.exit_code == 0, result.output
    assert "1 ticket(s)" in result.output


async def test_r38_first_prints_at_once_each_get_their_own_ticket(
    world: World, settings: Settings
) -> None:
    # Pages drawn in parallel worker threads must not mix fonts or tickets (see _RENDER_LOCK).
    people = [await candidate(world, ("CET4",)) for _ in range(6)]
    at_written_print(world)
    assert await assign(world) == 6
    results = await asyncio.gather(*(documents(world, c, settings) for c in people))
    async with world.db.uow(readonly=True) as uow:
        issued = await uow.tickets.of_entries([c.entries["CET4"].id for c in people])
    for c, [doc] in zip(people, results, strict=True):
        assert issued[c.entries["CET4"].id].ticket_no in pdf_text(doc.pdf)
