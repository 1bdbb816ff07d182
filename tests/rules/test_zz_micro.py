import time, os
from sqlalchemy import text
from storage.repos import snapshot
from tests.rules.conftest import World
from tests.rules.test_candidate_snapshot import _bind, _conversation, _entry

N = 1500

async def _backend_cpu(world):
    async with world.db.engine.connect() as conn:
        pids = (await conn.execute(text("select pid from pg_stat_activity where datname = current_database()"))).scalars().all()
    tot = 0
    for pid in pids:
        try:
            f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            tot += int(f[11]) + int(f[12])
        except FileNotFoundError:
            pass
    return tot * 10.0  # ms

async def test_micro(world: World):
    if world.db.is_sqlite:
        return
    reg = await world.candidate(eligible=("CET4",))
    await _bind(world, 600, reg.account_id)
    await _conversation(world, 600)
    async with world.db.uow() as uow:
        await uow.entries.create(_entry(reg, world.campus["BSU-HD"], "CET4", world.clock.now()))
        await uow.commit()
    sid = world.session_id
    async def plain_peek(uow):
        await uow.conversations.peek("bot", 1, "telegram", 600, 600)
    async def peek_then_read(uow):
        await uow.conversations.peek("bot", 1, "telegram", 600, 600)
        await snapshot.read(uow.conn, "telegram", 600, sid)
    async def fused_peek(uow):
        p = await uow.conversations.peek("bot", 1, "telegram", 600, 600, session_id=sid)
        assert p.snapshot is not None
    results = {}
    for rnd in range(3):
        for name, fn in (("plain peek", plain_peek), ("peek + read", peek_then_read), ("fused peek", fused_peek)):
            async with world.db.uow(optimistic=True) as uow:
                for _ in range(20):
                    await fn(uow)
                b0 = await _backend_cpu(world); c0 = time.process_time()
                for _ in range(N):
                    await fn(uow)
                c1 = time.process_time(); b1 = await _backend_cpu(world)
            results.setdefault(name, []).append(((c1 - c0) * 1000 / N, (b1 - b0) / N))
    async def start_plain(uow):
        await uow.conversations.start_update("bot", 1, "telegram", 600, 600, world.clock.now())
        await snapshot.read(uow.conn, "telegram", 600, sid)
    async def start_fused(uow):
        s = await uow.conversations.start_update("bot", 1, "telegram", 600, 600, world.clock.now(), session_id=sid)
        assert s.snapshot is not None
    for rnd in range(3):
        for name, fn in (("start + read", start_plain), ("fused start", start_fused)):
            c = b = 0.0
            for i in range(N // 5):
                async with world.db.uow() as uow:
                    if i == 20:
                        pass
                    b0 = await _backend_cpu(world) if False else 0
                    c0 = time.process_time()
                    await fn(uow)
                    c += time.process_time() - c0
                    await uow.rollback()
            # backend: total over the loop
            b0 = await _backend_cpu(world); c0 = time.process_time()
            for i in range(N // 5):
                async with world.db.uow() as uow:
                    await fn(uow)
                    await uow.rollback()
            c1 = time.process_time(); b1 = await _backend_cpu(world)
            results.setdefault(name, []).append(((c1 - c0) * 1000 / (N // 5), (b1 - b0) / (N // 5)))
    for k, v in results.items():
        print(k, " ".join(f"{a:.3f}/{b:.3f}" for a, b in v))
