"""Staff actions on tickets, one function each, for the chat commands, the API and the console.

The functions take an open session (the caller commits) and raise handlers.errors: NotFound,
Invalid(field, reason), Conflict. Messages are the API's; chat handlers word their own replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from handlers import ticket_actions
from handlers.context import Services
from handlers.errors import Conflict, Invalid, NotFound
from handlers.sla import colour_clause
from handlers.ticket_notices import tell_reporters
from storage.accounts import audit
from storage.community import Grid, Worker, worker_by_name
from storage.residents import Resident
from storage.ticket_flow import TransitionError, move, record_event
from storage.tickets import (
    OPEN_STATUSES,
    Ticket,
    TicketEvent,
    TicketFilter,
    board_rows,
    ticket_by_number,
    ticket_events,
)


class Viewer(Protocol):
    """Who acts: their name (the event's actor), role and grid."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...

    @property
    def grid_id(self) -> int | None: ...


@dataclass(frozen=True)
class TicketDetail:
    """One ticket with what the detail view shows beside it."""

    ticket: Ticket
    reporter: Resident | None
    grid: Grid | None
    holder: Worker | None
    events: list[TicketEvent]


def _grid_scope(who: Viewer) -> int | None:
    """A grid worker sees only their grid's tickets (-1: none, for one without a grid)."""
    if who.role == "grid_worker":
        return who.grid_id if who.grid_id is not None else -1
    return None


async def board(
    session: AsyncSession, who: Viewer, wanted: TicketFilter, now: datetime
) -> list[Any]:
    """The board's (Ticket, Grid, Resident, Worker) rows this viewer may see."""
    where = colour_clause(wanted.colour, now) if wanted.colour else None
    return await board_rows(session, wanted, only_grid=_grid_scope(who), where=where)


async def visible_ticket(session: AsyncSession, who: Viewer, number: str) -> Ticket:
    """The ticket by number, or NotFound (another grid's ticket does not exist for a worker)."""
    ticket = await ticket_by_number(session, number)
    if ticket is None or (
        who.role == "grid_worker" and (who.grid_id is None or ticket.grid_id != who.grid_id)
    ):
        raise NotFound("no such ticket")
    return ticket


async def ticket_detail(session: AsyncSession, who: Viewer, number: str) -> TicketDetail:
    """A visible ticket with its reporter, grid, holder and history."""
    ticket = await visible_ticket(session, who, number)
    return TicketDetail(
        ticket=ticket,
        reporter=await session.get(Resident, ticket.reporter_id),
        grid=await session.get(Grid, ticket.grid_id) if ticket.grid_id else None,
        holder=await session.get(Worker, ticket.assignee_id) if ticket.assignee_id else None,
        events=await ticket_events(session, ticket.id),
    )


async def dispatch(
    session: AsyncSession,
    services: Services,
    ticket: Ticket,
    worker_name: str,
    now: datetime,
    by: str | Worker,
) -> tuple[Worker, str]:
    """派单: give the ticket to the named worker; the worker and the sentence for the sender.

    by is the web account's name (its role was checked) or the manager chatting. Invalid
    ("worker") when nobody has that name; NotAllowed unless a chatting manager may dispatch
    this ticket; Conflict when the ticket is past dispatching.
    """
    worker = await worker_by_name(session, worker_name)
    if worker is None:
        raise Invalid("worker", f"no worker named {worker_name!r}")
    if isinstance(by, Worker):
        ticket_actions.check(by, ticket)
        return worker, await ticket_actions.dispatch_to(session, services, by, ticket, now, worker)
    return worker, await ticket_actions.assign(session, services, ticket, now, worker, by)


async def staff_dispatch(
    session: AsyncSession,
    services: Services,
    who: Viewer,
    number: str,
    worker_name: str,
    now: datetime,
) -> tuple[Ticket, Worker]:
    """派单 by staff on the web (API or console): dispatched and audited."""
    ticket = await visible_ticket(session, who, number)
    worker, _ = await dispatch(session, services, ticket, worker_name, now, who.name)
    audit(session, who.name, "dispatch", f"ticket:{ticket.number}", worker.name)
    return ticket, worker


async def comment(session: AsyncSession, who: Viewer, number: str, note: str) -> Ticket:
    """A note in the ticket's history (an empty note records nothing)."""
    ticket = await visible_ticket(session, who, number)
    if note:
        await record_event(session, ticket, "comment", who.name, note=note[:2000])
    return ticket


async def record_callback(
    session: AsyncSession, who: Viewer, number: str, note: str, now: datetime
) -> Ticket:
    """回访: the phone call-back after a low rating is done; Conflict if none is waiting."""
    ticket = await visible_ticket(session, who, number)
    if not ticket.callback_needed or ticket.callback_done_at is not None:
        raise Conflict("this ticket is not waiting for a call-back")
    ticket.callback_done_at = now
    await record_event(session, ticket, "callback", who.name, note=note[:2000])
    audit(session, who.name, "callback", f"ticket:{ticket.number}")
    return ticket


async def close(
    session: AsyncSession, who: Viewer, number: str, note: str, now: datetime
) -> Ticket:
    """办结 by staff: resolved (if open), then closed, and the reporters told."""
    ticket = await visible_ticket(session, who, number)
    note = note[:500]
    try:
        if ticket.status in OPEN_STATUSES:
            await move(session, ticket, "resolved", who.name, now, note=note)
        await move(session, ticket, "closed", who.name, now, note=note)
    except TransitionError as exc:
        raise Conflict(f"ticket {ticket.number} is {ticket.status}") from exc
    await tell_reporters(
        session, ticket, f"您的工单 {ticket.number} 已办结：{note[:100]}", "ticket_closed"
    )
    audit(session, who.name, "close", f"ticket:{ticket.number}", note[:100])
    return ticket
