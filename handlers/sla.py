"""Service levels (挂图销号): each ticket's colour, escalation of unaccepted tasks, 吹哨 overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Services
from handlers.jobs import periodic
from handlers.ticket_notices import label_of, tell_reporters
from storage.community import PartnerUnit, workers_with_role
from storage.privacy import mask_text
from storage.push import push_to_unit, push_to_worker
from storage.ticket_flow import UNACCEPTED, TransitionError, move, record_event
from storage.tickets import OPEN_STATUSES, Ticket

RATING_WAIT = timedelta(days=3)
DONE = ("resolved", "closed")


def sla_colour(ticket: Ticket, now: datetime) -> str:
    """green on track, blue in progress, yellow at 80% of the time, red overdue."""
    if ticket.status in ("cancelled", "duplicate"):
        return "grey"
    if ticket.status in DONE:
        due, done = ticket.resolve_due_at, ticket.resolved_at
        return "red" if due and done and done > due else "green"
    waiting = ticket.status in UNACCEPTED
    due = ticket.accept_due_at if waiting else ticket.resolve_due_at
    warn = ticket.accept_warn_at if waiting else ticket.resolve_warn_at
    if due is not None and now >= due:
        return "red"
    if warn is not None and now >= warn:
        return "yellow"
    return "green" if waiting else "blue"


def colour_case(now: datetime) -> ColumnElement[str]:
    """Each ticket's colour as SQL (a CASE with sla_colour's rules), for counting by colour."""
    waiting = Ticket.status.in_(UNACCEPTED)
    done = Ticket.status.in_(DONE)
    return case(
        (Ticket.status.in_(("cancelled", "duplicate")), "grey"),
        (and_(done, Ticket.resolved_at > Ticket.resolve_due_at), "red"),
        (done, "green"),
        (and_(waiting, Ticket.accept_due_at <= now), "red"),
        (and_(waiting, Ticket.accept_warn_at <= now), "yellow"),
        (waiting, "green"),
        (Ticket.resolve_due_at <= now, "red"),
        (Ticket.resolve_warn_at <= now, "yellow"),
        else_="blue",
    )


def colour_clause(colour: str, now: datetime) -> ColumnElement[bool]:
    """The SQL condition for tickets of one colour at a moment (for board filters)."""
    waiting = Ticket.status.in_(UNACCEPTED)
    working = Ticket.status.in_(("accepted", "in_progress"))
    late_wait = and_(waiting, Ticket.accept_due_at <= now)
    late_work = and_(working, Ticket.resolve_due_at <= now)
    late_done = and_(Ticket.status.in_(DONE), Ticket.resolved_at > Ticket.resolve_due_at)
    warn_wait = and_(waiting, Ticket.accept_warn_at <= now, Ticket.accept_due_at > now)
    warn_work = and_(working, Ticket.resolve_warn_at <= now, Ticket.resolve_due_at > now)
    if colour == "red":
        return or_(late_wait, late_work, late_done)
    if colour == "yellow":
        return or_(warn_wait, warn_work)
    if colour == "blue":
        return and_(working, not_(or_(late_work, warn_work)))
    if colour == "grey":
        return Ticket.status.in_(("cancelled", "duplicate"))
    return or_(
        and_(waiting, not_(or_(late_wait, warn_wait))),
        and_(Ticket.status.in_(DONE), not_(late_done)),
    )


COLOUR_WORDS = {
    "green": "🟢正常",
    "blue": "🔵办理中",
    "yellow": "🟡临期",
    "red": "🔴超时",
    "grey": "⚪",
}


async def _claim(session: AsyncSession, ticket_id: int, column: str, now: datetime) -> bool:
    """Mark a ticket escalated/whistled once, even when several workers run the job at once."""
    col = getattr(Ticket, column)
    result = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, col.is_(None))
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def escalate_unaccepted(session: AsyncSession, services: Services, now: datetime) -> int:
    """Tell the community leader about tasks nobody accepted in time (an event and a push)."""
    stmt = select(Ticket).where(
        Ticket.status.in_(UNACCEPTED), Ticket.accept_due_at < now, Ticket.escalated_at.is_(None)
    )
    done = 0
    for ticket in (await session.scalars(stmt.order_by(Ticket.id).limit(200))).all():
        if not await _claim(session, ticket.id, "escalated_at", now):
            continue
        await record_event(
            session, ticket, "escalated", "system:sla", note="超时未接单，上报社区书记"
        )
        for leader in await workers_with_role(session, "leader"):
            await push_to_worker(
                session,
                leader,
                f"【督办】工单 {ticket.number}【{label_of(services, ticket)}】"
                f"{mask_text(ticket.location or '')} 超时未接单。"
                f"请督促或改派：回复“派单 {ticket.number} 姓名”。",
                "sla_escalated",
            )
        done += 1
    return done


async def whistle_overdue(session: AsyncSession, services: Services, now: datetime) -> int:
    """吹哨: call in the partner unit (or the leader) when a ticket passes its resolve time."""
    stmt = select(Ticket).where(
        Ticket.status.in_(OPEN_STATUSES), Ticket.resolve_due_at < now, Ticket.whistled_at.is_(None)
    )
    done = 0
    for ticket in (await session.scalars(stmt.order_by(Ticket.id).limit(200))).all():
        if not await _claim(session, ticket.id, "whistled_at", now):
            continue
        await record_event(session, ticket, "whistled", "system:sla", note="超时未办结，吹哨报到")
        text = (
            f"【吹哨】工单 {ticket.number}【{label_of(services, ticket)}】"
            f"{mask_text(ticket.location or '')}"
            "已超过办理时限，请协同到场处置。"
        )
        unit = (
            await session.get(PartnerUnit, ticket.partner_unit_id)
            if ticket.partner_unit_id
            else None
        )
        if unit is None or await push_to_unit(session, unit, text, "sla_whistled") is None:
            for leader in await workers_with_role(session, "leader"):
                await push_to_worker(session, leader, text, "sla_whistled")
        await tell_reporters(
            session,
            ticket,
            f"您的工单 {ticket.number} 办理超时，社区已督办，会尽快处理。",
            "sla_notice",
        )
        done += 1
    return done


async def close_unrated(session: AsyncSession, now: datetime) -> int:
    """Close resolved tickets the resident did not rate within three days."""
    stmt = select(Ticket).where(Ticket.status == "resolved", Ticket.resolved_at < now - RATING_WAIT)
    done = 0
    for ticket in (await session.scalars(stmt.order_by(Ticket.id).limit(200))).all():
        try:
            await move(session, ticket, "closed", "system:sla", now, note="居民未评价，自动办结")
        except TransitionError:
            continue
        done += 1
    return done


@periodic(60)
async def check_sla(session: AsyncSession, services: Services, now: datetime) -> int:
    """Every minute: escalate, whistle and close what is due."""
    done = await escalate_unaccepted(session, services, now)
    done += await whistle_overdue(session, services, now)
    return done + await close_unrated(session, now)
