"""A ticket's life: open (route, SLA, duplicates), move between states, every change an event."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.community import (
    Grid,
    Worker,
    grid_worker,
    match_grid,
    partner_unit_for,
    workers_with_role,
)
from storage.privacy import mask_text
from storage.residents import Resident
from storage.tickets import OPEN_STATUSES, Ticket, TicketEvent, TicketFollower, create_ticket

DUPLICATE_WINDOW = timedelta(days=7)
WARN_SHARE = 0.8  # 挂图销号: yellow once 80% of the time is used
SIMILARITY = 0.75
MIN_FUZZY_LENGTH = 6
UNACCEPTED = ("submitted", "assigned")  # waiting for someone to accept it
_NUMBERS = re.compile(r"\d+")

# Which state may follow which: the closed loop 派单 → 接单 → 办理 → 反馈 → 评价.
TRANSITIONS: dict[str, frozenset[str]] = {
    # staff may resolve a ticket nobody accepted (handled by phone); workers must accept first
    "submitted": frozenset({"assigned", "resolved", "cancelled", "duplicate"}),
    "assigned": frozenset(
        {"accepted", "submitted", "assigned", "resolved", "cancelled", "duplicate"}
    ),
    "accepted": frozenset({"in_progress", "resolved", "submitted", "assigned", "cancelled"}),
    "in_progress": frozenset({"resolved", "submitted", "assigned", "cancelled"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
    "duplicate": frozenset(),
}


class HasCategories(Protocol):
    """What open_ticket needs of the services: each category's route, SLA and urgency."""

    @property
    def categories(self) -> Any:
        """Category name → rule with label, accept_minutes, resolve_hours, urgent, route."""


class TransitionError(ValueError):
    """A state change the closed loop does not allow (e.g. finishing a closed ticket)."""


@dataclass(frozen=True)
class Filed:
    """The outcome of a report: the ticket, whether it joined an open one, who holds it."""

    ticket: Ticket
    merged: bool
    assignee: Worker | None


def similar_places(a: str | None, b: str | None) -> bool:
    """True when two place descriptions name the same spot (one contains the other, or close)."""
    if not a or not b:
        return False
    a, b = a.replace(" ", ""), b.replace(" ", "")
    if (
        _NUMBERS.findall(a)
        and _NUMBERS.findall(b)
        and set(_NUMBERS.findall(a)) != set(_NUMBERS.findall(b))
    ):
        return False  # 3号楼 and 5号楼 are different places
    if a in b or b in a:
        return True
    if min(len(a), len(b)) < MIN_FUZZY_LENGTH:
        return False  # 东关中巷 and 东关南巷 differ in one character and are different lanes
    return difflib.SequenceMatcher(None, a, b).ratio() >= SIMILARITY


async def find_duplicate(
    session: AsyncSession, category: str, grid_id: int, location: str | None, now: datetime
) -> Ticket | None:
    """An open ticket of the same category in the same grid at a similar place, last 7 days."""
    stmt = (
        select(Ticket)
        .where(
            Ticket.category == category,
            Ticket.grid_id == grid_id,
            Ticket.status.in_(OPEN_STATUSES),
            Ticket.created_at >= now - DUPLICATE_WINDOW,
        )
        .order_by(Ticket.id)
    )
    for ticket in (await session.scalars(stmt)).all():
        if similar_places(ticket.location, location):
            return ticket
    return None


async def add_follower(session: AsyncSession, ticket: Ticket, resident_id: int) -> bool:
    """Link another reporter to a ticket so they get its updates; False if already linked."""
    if resident_id == ticket.reporter_id:
        return False
    stmt = select(TicketFollower.id).where(
        TicketFollower.ticket_id == ticket.id, TicketFollower.resident_id == resident_id
    )
    if (await session.scalars(stmt)).first() is not None:
        return False
    session.add(TicketFollower(ticket_id=ticket.id, resident_id=resident_id))
    return True


async def reporters_of(session: AsyncSession, ticket: Ticket) -> list[Resident]:
    """The reporter and every linked reporter of a ticket."""
    follower_ids = select(TicketFollower.resident_id).where(TicketFollower.ticket_id == ticket.id)
    stmt = select(Resident).where(
        (Resident.id == ticket.reporter_id) | Resident.id.in_(follower_ids)
    )
    return list((await session.scalars(stmt.order_by(Resident.id))).all())


async def route(
    session: AsyncSession, category: str, route_to: str, location: str | None
) -> tuple[int | None, Worker | None]:
    """The grid of the place and who takes the task: the grid's worker, or staff."""
    grid = await match_grid(session, location) if location else None
    if route_to == "staff":
        staff = await workers_with_role(session, "staff")
        return (grid.id if grid else None), (staff[0] if staff else None)
    worker = await grid_worker(session, grid.id) if grid else None
    return (grid.id if grid else None), worker


async def open_ticket(
    session: AsyncSession,
    services: HasCategories,
    *,
    category: str,
    description: str,
    reporter: Resident,
    now: datetime,
    actor: str,
    location: str | None = None,
    conversation_id: int | None = None,
    source_message_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> Filed:
    """File a report: join an open duplicate, or create, route and time a new ticket."""
    rule = services.categories.get(category) or services.categories["other"]
    grid_id, assignee = await route(session, category, rule.route, location)
    if grid_id is not None and rule.route == "grid":
        # One report at a time per grid, so two people reporting the same light at the same
        # moment still end up on one ticket (PostgreSQL row lock; SQLite writers are serial).
        await session.execute(select(Grid.id).where(Grid.id == grid_id).with_for_update())
        original = await find_duplicate(session, category, grid_id, location, now)
        if original is not None:
            await add_follower(session, original, reporter.id)
            # Another resident's words on this ticket's history: never their number as typed
            # (acceptance reveals the reporter's contact, not theirs). The reporter's own words
            # are kept and masked where shown, like the description.
            own = reporter.id == original.reporter_id
            note = f"同一问题：{description if own else mask_text(description)}"
            await record_event(session, original, "linked", actor, note=note)
            holder_id = original.assignee_id
            holder = await session.get(Worker, holder_id) if holder_id else None
            return Filed(original, True, holder)
    unit = await partner_unit_for(session, category)
    ticket = await create_ticket(
        session,
        category=category,
        location=location,
        description=description,
        reporter_id=reporter.id,
        grid_id=grid_id,
        assignee_id=assignee.id if assignee else None,
        conversation_id=conversation_id,
        source_message_id=source_message_id,
        actor=actor,
    )
    ticket.urgent = rule.urgent
    ticket.partner_unit_id = unit.id if unit else None
    ticket.details = json.dumps(details, ensure_ascii=False) if details else None
    accept, resolve = timedelta(minutes=rule.accept_minutes), timedelta(hours=rule.resolve_hours)
    ticket.accept_due_at, ticket.accept_warn_at = now + accept, now + accept * WARN_SHARE
    ticket.resolve_due_at, ticket.resolve_warn_at = now + resolve, now + resolve * WARN_SHARE
    ticket.created_at = now
    await session.flush()
    return Filed(ticket, False, assignee)


def accepted_by(ticket: Ticket, worker_id: int | None) -> bool:
    """True when this worker holds the ticket and accepted it themselves (contact revealed)."""
    return (
        worker_id is not None
        and ticket.assignee_id == worker_id
        and ticket.accepted_at is not None
        and ticket.status not in UNACCEPTED
    )


async def record_event(
    session: AsyncSession,
    ticket: Ticket,
    kind: str,
    actor: str,
    *,
    note: str | None = None,
    photo_url: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
) -> TicketEvent:
    """Add one event to a ticket's history."""
    event = TicketEvent(
        ticket_id=ticket.id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        note=note,
        photo_url=photo_url,
    )
    session.add(event)
    await session.flush()
    return event


async def move(
    session: AsyncSession,
    ticket: Ticket,
    to_status: str,
    actor: str,
    now: datetime,
    *,
    note: str | None = None,
    photo_url: str | None = None,
    assignee_id: int | None = None,
) -> TicketEvent:
    """Change a ticket's state atomically (the row must still be in the state read) and log it."""
    from_status = ticket.status
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        raise TransitionError(f"{from_status} → {to_status}")
    values: dict[str, Any] = {"status": to_status, "updated_at": now}
    stamp = {"accepted": "accepted_at", "resolved": "resolved_at", "closed": "closed_at"}
    if to_status in stamp:
        values[stamp[to_status]] = now
    if to_status in ("assigned", "submitted"):
        # Back to dispatch: whoever holds it next must accept it themselves before they see
        # the reporter's contact (the earlier acceptance stays in the ticket's events).
        values["assignee_id"] = assignee_id
        values["accepted_at"] = None
    result = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise TransitionError(f"ticket {ticket.number} changed meanwhile")
    await session.refresh(ticket)
    return await record_event(
        session,
        ticket,
        "status",
        actor,
        note=note,
        photo_url=photo_url,
        from_status=from_status,
        to_status=to_status,
    )
