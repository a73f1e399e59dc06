"""Retention: old message texts are erased; waiting messages and tickets are kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.runtime import RUNTIME
from bot.scheduler import run_job
from handlers.modules import default_jobs
from handlers.retention import ERASED
from storage.base import utcnow
from storage.messages import Message, store_inbound
from storage.residents import Resident, get_or_create_conversation
from storage.ticket_flow import open_ticket
from storage.tickets import Ticket
from tests.db_helpers import fetch


async def test_texts_older_than_the_retention_period_are_erased(make_client, db_url):
    client = await make_client("http://127.0.0.1:9")
    runtime = client.app[RUNTIME]
    assert runtime.services.retention_days == 365
    now = utcnow()
    async with runtime.sessions() as session, session.begin():
        conv = await get_or_create_conversation(session, "generic", "old", "old")
        for mid, age, status in (("a", 400, "done"), ("b", 10, "done"), ("c", 400, "received")):
            message = await store_inbound(
                session, conversation_id=conv.id, platform="generic", platform_msg_id=mid,
                text=f"东关中巷路灯坏了 电话13912345678 {mid}",
            )  # fmt: skip
            assert message is not None
            message.created_at, message.status = now - timedelta(days=age), status
        resident = await session.get(Resident, conv.resident_id)
        await open_ticket(
            session, runtime.services, category="streetlight", description="东关中巷路灯坏了",
            reporter=resident, now=now - timedelta(days=400), actor="test", location="东关中巷",
        )  # fmt: skip
    [job] = [j for j in default_jobs() if j.name.endswith("erase_old_texts")]
    assert await run_job(runtime, job, now=now) == 1
    assert await run_job(runtime, job, now=now) == 0
    texts = await fetch(db_url, select(Message.text).order_by(Message.id))
    assert texts[0] == ERASED and "13912345678" in texts[1] and "13912345678" in texts[2]
    [ticket] = await fetch(db_url, select(Ticket))
    assert ticket.description == "东关中巷路灯坏了"  # the ticket's history stays
