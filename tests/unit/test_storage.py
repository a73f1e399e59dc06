"""Repositories on SQLite and PostgreSQL: migrations match the models, once-only claims."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from storage.community import match_grid
from storage.db import create_engine, read_only, session_factory
from storage.messages import (
    Message,
    claim_for_processing,
    insert_inbound,
    record_outbound,
    store_inbound,
)
from storage.models import Base
from storage.outbox import claim_delivery, due_deliveries, mark_failed_attempt, mark_sent
from storage.residents import get_or_create_conversation, touch_conversation
from storage.search import include_name
from storage.tickets import create_ticket, open_tickets_of


async def test_migrations_match_the_models(db_url):
    engine = create_engine(db_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"include_name": include_name}),
                Base.metadata,
            )
        )
    await engine.dispose()
    assert diff == [], "models changed without an Alembic migration"


async def test_inbound_is_stored_once_and_claimed_once(db_url):
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        conv = await get_or_create_conversation(s, "generic", "c1", "u1")
        first = await store_inbound(
            s, conversation_id=conv.id, platform="generic", platform_msg_id="m1", text="hi"
        )
        again = await store_inbound(
            s, conversation_id=conv.id, platform="generic", platform_msg_id="m1", text="hi"
        )
    assert first is not None and again is None

    async def claim() -> bool:
        async with sessions() as s, s.begin():
            return await claim_for_processing(s, first.id)

    results = await asyncio.gather(*(claim() for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    await engine.dispose()


async def test_ingest_statements_store_once_and_find_the_conversation(db_url):
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        assert await touch_conversation(s, "generic", "c9", "u9") is None
        conv = await get_or_create_conversation(s, "generic", "c9", "u9")
    async with sessions() as s, s.begin():
        assert await touch_conversation(s, "generic", "c9", "u9") == conv.id

    async def insert() -> int | None:
        async with sessions() as s, s.begin():
            return await insert_inbound(
                s, conversation_id=conv.id, platform="generic", platform_msg_id="m9", text="hi"
            )

    results = await asyncio.gather(*(insert() for _ in range(4)))
    assert len([r for r in results if r is not None]) == 1  # a redelivery stores nothing
    await engine.dispose()


async def test_a_read_only_session_does_not_hold_up_a_writer(db_url):
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    async with sessions() as reader:
        await read_only(reader)
        await reader.execute(select(Message.id))  # its transaction stays open meanwhile
        async with sessions() as writer, writer.begin():
            conv = await asyncio.wait_for(
                get_or_create_conversation(writer, "generic", "c8", "u8"), timeout=10
            )
    assert conv.id is not None
    await engine.dispose()


async def test_conversation_creation_is_race_free(db_url):
    engine = create_engine(db_url)
    sessions = session_factory(engine)

    async def make() -> int:
        async with sessions() as s, s.begin():
            return (await get_or_create_conversation(s, "generic", "race", "race")).id

    ids = await asyncio.gather(*(make() for _ in range(6)))
    assert len(set(ids)) == 1
    await engine.dispose()


async def test_outbox_claims_once_and_keeps_conversation_order(db_url):
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    async with sessions() as s, s.begin():
        conv = await get_or_create_conversation(s, "generic", "c2", "u2")
        for text in ("first", "second"):
            record_outbound(s, conversation_id=conv.id, platform="generic", text=text,
                            reply_to_id=None)  # fmt: skip
    async with sessions() as s:
        due = await due_deliveries(s)
    assert len(due) == 1  # the second waits for the first
    async with sessions() as s, s.begin():
        delivery = await claim_delivery(s, due[0], lease=30)
    async with sessions() as s, s.begin():
        assert await claim_delivery(s, due[0], lease=30) is None
    assert delivery is not None and delivery.text == "first" and delivery.chat_id == "c2"
    async with sessions() as s, s.begin():
        await mark_failed_attempt(s, due[0], "boom", retry_at=None)
    async with sessions() as s:
        [second] = await due_deliveries(s)
    async with sessions() as s, s.begin():
        await mark_sent(s, second)
    async with sessions() as s:
        assert await due_deliveries(s) == []
    await engine.dispose()


async def test_grid_matching_and_ticket_numbers(db_url):
    engine = create_engine(db_url)
    async with session_factory(engine)() as s, s.begin():
        grid = await match_grid(s, "幸福里小区5号楼门口")
        assert grid is not None and grid.code == "G02"
        assert await match_grid(s, "火星基地") is None
        conv = await get_or_create_conversation(s, "generic", "c3", "u3")
        numbers = []
        for _ in range(2):
            ticket = await create_ticket(
                s, category="road", location="东关北街", description="井盖没了",
                reporter_id=conv.resident_id, grid_id=None, assignee_id=None,
                conversation_id=conv.id, source_message_id=None, actor="test",
            )  # fmt: skip
            numbers.append(ticket.number)
        assert numbers == ["1001", "1002"]
        assert [t.number for t in await open_tickets_of(s, conv.resident_id)] == ["1002", "1001"]
    await engine.dispose()
