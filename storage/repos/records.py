"""Student records, their photos and eligibility, and CET-4 score records."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update

from storage import direct
from storage.dto import ScoreRecordDTO, StudentRecordDTO
from storage.models import RecordEligibility, RecordPhoto, ScoreRecord, StudentRecord
from storage.repos.base import Repository, table, to_dto

R = table(StudentRecord)
P = table(RecordPhoto)
E = table(RecordEligibility)
SC = table(ScoreRecord)

_CHUNK = 5000

# A record with its eligibility in one statement (one row per eligible subject, or one).
_GET_WITH_ELIGIBILITY = (
    select(R, E.c.subject_code.label("_eligible"))
    .outerjoin(E, E.c.record_id == R.c.id)
    .where(R.c.id == bindparam("record_id"))
)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class RecordRepository(Repository):
    async def _with_eligibility(self, row: Any) -> StudentRecordDTO:
        codes = await self.conn.execute(select(E.c.subject_code).where(E.c.record_id == row.id))
        return to_dto(StudentRecordDTO, row, eligible=frozenset(codes.scalars()))

    async def get(self, record_id: int) -> StudentRecordDTO | None:
        rows = await direct.rows(self.conn, _GET_WITH_ELIGIBILITY, {"record_id": record_id})
        if not rows:
            return None
        eligible = frozenset(r._eligible for r in rows if r._eligible is not None)
        return to_dto(StudentRecordDTO, rows[0], eligible=eligible)

    async def find(self, session_id: int, id_type: str, id_number: str) -> StudentRecordDTO | None:
        row = (
            await self.conn.execute(
                select(R).where(
                    R.c.session_id == session_id,
                    R.c.id_type == id_type,
                    R.c.id_number == id_number,
                )
            )
        ).first()
        return await self._with_eligibility(row) if row else None

    async def find_by_id_number(self, session_id: int, id_number: str) -> list[StudentRecordDTO]:
        rows = await self.conn.execute(
            select(R).where(R.c.session_id == session_id, R.c.id_number == id_number)
        )
        return [await self._with_eligibility(r) for r in rows.all()]

    async def eligible(self, record_id: int) -> frozenset[str]:
        codes = await self.conn.execute(select(E.c.subject_code).where(E.c.record_id == record_id))
        return frozenset(codes.scalars())

    async def is_eligible(self, record_id: int, subject_code: str) -> bool:
        row = await self.conn.execute(
            select(E.c.record_id).where(
                E.c.record_id == record_id, E.c.subject_code == subject_code
            )
        )
        return row.first() is not None

    async def add_eligibility(self, record_id: int, subject_code: str, source: str) -> None:
        if not await self.is_eligible(record_id, subject_code):
            await self.conn.execute(
                insert(E).values(record_id=record_id, subject_code=subject_code, source=source)
            )
            # R19: a review's grant is a change of the candidate's standing worth a trail.
            after = {"subject_code": subject_code, "source": source}
            await self._audited("eligible", "record", record_id, None, after)

    async def photo(self, record_id: int) -> bytes | None:
        return (
            await self.conn.execute(select(P.c.data).where(P.c.record_id == record_id))
        ).scalar()

    async def keys_of_session(self, session_id: int) -> dict[tuple[str, str], int]:
        rows = await self.conn.execute(
            select(R.c.id, R.c.id_type, R.c.id_number).where(R.c.session_id == session_id)
        )
        return {(r.id_type, r.id_number): r.id for r in rows}

    async def bulk_upsert(
        self,
        session_id: int,
        rows: Sequence[dict[str, Any]],
        eligibility: dict[tuple[str, str], Sequence[str]],
        photos: dict[tuple[str, str], bytes],
    ) -> tuple[int, int]:
        """Writes a whole roster: new rows inserted, known ones updated. Returns (new, updated).

        Roster eligibility is replaced; eligibility won by a CET-6 review stays (R19).
        """
        known = await self.keys_of_session(session_id)
        new = [r for r in rows if (r["id_type"], r["id_number"]) not in known]
        old = [r for r in rows if (r["id_type"], r["id_number"]) in known]
        for chunk in _chunks(new):
            await self.conn.execute(insert(R), [{"session_id": session_id, **r} for r in chunk])
        if old:
            stmt = (
                update(R)
                .where(R.c.id == bindparam("_id"))
                .values({k: bindparam(k) for k in old[0] if k not in ("id_type", "id_number")})
            )
            for chunk in _chunks(old):
                params = [
                    {
                        **{k: v for k, v in r.items() if k not in ("id_type", "id_number")},
                        "_id": known[(r["id_type"], r["id_number"])],
                    }
                    for r in chunk
                ]
                await self.conn.execute(stmt, params)
        ids = await self.keys_of_session(session_id)
        touched = [ids[(r["id_type"], r["id_number"])] for r in rows]
        for chunk in _chunks(touched):
            await self.conn.execute(
                delete(E).where(E.c.record_id.in_(chunk), E.c.source == "roster")
            )
            await self.conn.execute(delete(P).where(P.c.record_id.in_(chunk)))
        elig_rows = [
            {"record_id": ids[key], "subject_code": code, "source": "roster"}
            for key, codes in eligibility.items()
            for code in codes
        ]
        if elig_rows:
            # A review may already have granted the same subject: skip those.
            granted = set()
            if old:
                res = await self.conn.execute(
                    select(E.c.record_id, E.c.subject_code).where(E.c.source == "review")
                )
                granted = {(r.record_id, r.subject_code) for r in res}
            elig_rows = [e for e in elig_rows if (e["record_id"], e["subject_code"]) not in granted]
            for chunk in _chunks(elig_rows):
                await self.conn.execute(insert(E), list(chunk))
        photo_rows = [{"record_id": ids[key], "data": data} for key, data in photos.items()]
        for chunk in _chunks(photo_rows, 500):
            await self.conn.execute(insert(P), list(chunk))
        return len(new), len(old)

    async def count(self, session_id: int | None = None) -> int:
        q = select(func.count()).select_from(R)
        if session_id is not None:
            q = q.where(R.c.session_id == session_id)
        return int((await self.conn.execute(q)).scalar_one())


class ScoreRepository(Repository):
    async def get(self, ticket_no: str) -> ScoreRecordDTO | None:
        row = (await self.conn.execute(select(SC).where(SC.c.ticket_no == ticket_no))).first()
        return to_dto(ScoreRecordDTO, row) if row else None

    async def bulk_upsert(self, rows: Sequence[dict[str, Any]]) -> tuple[int, int]:
        tickets = [r["ticket_no"] for r in rows]
        known: set[str] = set()
        for chunk in _chunks(tickets):
            res = await self.conn.execute(select(SC.c.ticket_no).where(SC.c.ticket_no.in_(chunk)))
            known.update(res.scalars())
        new = [r for r in rows if r["ticket_no"] not in known]
        old = [r for r in rows if r["ticket_no"] in known]
        for chunk in _chunks(new):
            await self.conn.execute(insert(SC), list(chunk))
        if old:
            stmt = (
                update(SC)
                .where(SC.c.ticket_no == bindparam("_t"))
                .values({k: bindparam(k) for k in old[0] if k != "ticket_no"})
            )
            await self.conn.execute(
                stmt,
                [
                    {**{k: v for k, v in r.items() if k != "ticket_no"}, "_t": r["ticket_no"]}
                    for r in old
                ],
            )
        return len(new), len(old)

    async def count(self) -> int:
        return int((await self.conn.execute(select(func.count()).select_from(SC))).scalar_one())
