from storage import direct
from storage.repos import conversations as cv, snapshot
from tests.rules.conftest import World
from tests.rules.test_candidate_snapshot import _bind, _conversation, _entry

async def test_explain(world: World):
    if world.db.is_sqlite:
        return
    reg = await world.candidate(eligible=("CET4",))
    await _bind(world, 600, reg.account_id)
    await _conversation(world, 600)
    params = {**cv._who("telegram", 600, 600), "b_updates_key": "bot", "b_update_id": 1, "b_session_id": world.session_id, "b_now": world.clock.now()}
    async with world.db.uow() as uow:
        raw = await uow.conn.get_raw_connection()
        drv = raw.driver_connection
        for stmt in (cv._PEEK_WITH_SNAPSHOT_PG, snapshot.STATEMENT, cv._PEEK_PG, cv._START_UPDATE_WITH_SNAPSHOT_PG, cv._START_UPDATE_PG):
            c = direct._compiled(stmt, uow.conn.dialect)
            args = c.args(params)
            for i in range(20):
                await drv.fetch(c.sql, *args)
        rows = await drv.fetch("select left(statement, 60), generic_plans, custom_plans from pg_prepared_statements where statement like $$WITH%$$ or statement like $$SELECT EXISTS%$$")
        for r in rows: print(tuple(r))
