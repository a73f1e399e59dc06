"""SLA colours and the periodic job: escalation to the leader, 吹哨 to the unit, once each."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.runtime import RUNTIME
from bot.scheduler import run_job
from handlers.jobs import PeriodicJob
from handlers.modules import default_jobs
from handlers.sla import sla_colour
from storage.base import utcnow
from storage.residents import get_or_create_resident
from storage.ticket_flow import open_ticket
from storage.tickets import Ticket, TicketEvent
from tests.db_helpers import fetch

NO_NLU = "http://127.0.0.1:9"  # these tests never parse a message


def ticket_at(status: str, created, accept_min: float, resolve_h: float, **kw) -> Ticket:
    """An unsaved ticket with SLA times relative to its creation."""
    accept, resolve = timedelta(minutes=accept_min), timedelta(hours=resolve_h)
    return Ticket(
        status=status,
        created_at=created,
        accept_due_at=created + accept,
        accept_warn_at=created + accept * 0.8,
        resolve_due_at=created + resolve,
        resolve_warn_at=created + resolve * 0.8,
        **kw,
    )


def test_colours_follow_the_clock():
    t0 = utcnow()
    waiting = ticket_at("assigned", t0, 100, 10)
    assert sla_colour(waiting, t0 + timedelta(minutes=10)) == "green"
    assert sla_colour(waiting, t0 + timedelta(minutes=85)) == "yellow"
    assert sla_colour(waiting, t0 + timedelta(minutes=101)) == "red"
    working = ticket_at("in_progress", t0, 100, 10)
    assert sla_colour(working, t0 + timedelta(hours=1)) == "blue"
    assert sla_colour(working, t0 + timedelta(hours=8.5)) == "yellow"
    assert sla_colour(working, t0 + timedelta(hours=11)) == "red"
    done = ticket_at("closed", t0, 100, 10, resolved_at=t0 + timedelta(hours=2))
    assert sla_colour(done, t0 + timedelta(days=30)) == "green"
    late = ticket_at("closed", t0, 100, 10, resolved_at=t0 + timedelta(hours=12))
    assert sla_colour(late, t0 + timedelta(days=30)) == "red"


def sla_job() -> PeriodicJob:
    [job] = [j for j in default_jobs() if j.name.endswith("check_sla")]
    return job


async def file_report(runtime, category: str, location: str, now):
    async with runtime.sessions() as session, session.begin():
        reporter = await get_or_create_resident(session, "generic", f"sla-{category}")
        filed = await open_ticket(
            session, runtime.services, category=category, description="路灯不亮",
            reporter=reporter, now=now, actor="test", location=location,
        )  # fmt: skip
        return filed.ticket.number


async def test_unaccepted_escalates_once_and_overdue_is_whistled(make_client, receiver, db_url):
    rec, _ = receiver
    client = await make_client(NO_NLU)
    runtime = client.app[RUNTIME]
    start = utcnow()
    number = await file_report(runtime, "streetlight", "东关中巷5号楼", start)
    job = sla_job()
    assert await run_job(runtime, job, now=start + timedelta(minutes=30)) == 0
    later = start + timedelta(minutes=241)  # streetlight: accept within 240 minutes
    assert await run_job(runtime, job, now=later) == 1
    assert await run_job(runtime, job, now=later) == 0  # once, however often the job runs
    escalation = (await rec.wait_for("leader-chen", 1))[0]
    assert number in escalation and "督办" in escalation
    overdue = start + timedelta(hours=73)  # resolve within 72 hours
    assert await run_job(runtime, job, now=overdue) == 1
    whistle = (await rec.wait_for("unit-light", 1))[0]
    assert number in whistle and "吹哨" in whistle
    assert "超时" in (await rec.wait_for("sla-streetlight", 1))[0]
    kinds = await fetch(db_url, select(TicketEvent.kind).order_by(TicketEvent.id))
    assert kinds == ["created", "escalated", "whistled"]
    assert len(rec.for_user("leader-chen")) == 1


async def test_resolved_but_unrated_closes_after_three_days(make_client, db_url):
    client = await make_client(NO_NLU)
    runtime = client.app[RUNTIME]
    start = utcnow()
    number = await file_report(runtime, "sanitation", "幸福里小区", start)
    async with runtime.sessions() as session, session.begin():
        ticket = (await session.scalars(select(Ticket).where(Ticket.number == number))).one()
        ticket.status, ticket.resolved_at = "resolved", start + timedelta(hours=1)
        ticket.accepted_at = start
    await run_job(runtime, sla_job(), now=start + timedelta(days=2))
    [ticket] = await fetch(db_url, select(Ticket))
    assert ticket.status == "resolved"
    await run_job(runtime, sla_job(), now=start + timedelta(days=4))
    [ticket] = await fetch(db_url, select(Ticket))
    assert ticket.status == "closed" and ticket.rating is None
