"""The ticket board (挂图销号) over the API: list with SLA colours, detail, dispatch, comment."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.responses import error
from bot.runtime import RUNTIME
from bot.web.api.core import (
    Param,
    Principal,
    choice_param,
    endpoint,
    json_body,
    page,
    page_args,
    principal,
)
from handlers import ticket_actions
from handlers.sla import colour_clause, sla_colour
from handlers.ticket_actions import ActionRefused
from handlers.ticket_notices import tell_reporters
from storage.accounts import audit
from storage.community import Grid, Worker
from storage.privacy import mask_name, mask_phone, mask_text
from storage.residents import Resident
from storage.ticket_flow import TransitionError, accepted_by, move, record_event
from storage.tickets import OPEN_STATUSES, Ticket, TicketEvent, ticket_by_number

BOARD_ROLES = ("admin", "staff", "grid_worker")
MANAGERS = ("admin", "staff")
STATUSES = (
    "submitted",
    "assigned",
    "accepted",
    "in_progress",
    "resolved",
    "closed",
    "cancelled",
    "duplicate",
)
COLOURS = ("green", "blue", "yellow", "red", "grey")
ITEM = {
    "id": "integer",
    "number": "string",
    "category": "string",
    "status": "string",
    "colour": "string",
    "location": "string?",
    "grid": "string?",
    "reporter": "string?",
    "assignee": "string?",
    "created_at": "string",
    "callback_needed": "boolean",
    "urgent": "boolean",
}


def _scoped(stmt: Any, who: Principal) -> Any:
    """A grid worker sees only their grid's tickets."""
    if who.role == "grid_worker":
        return stmt.where(Ticket.grid_id == (who.grid_id if who.grid_id is not None else -1))
    return stmt


def _item(
    ticket: Ticket,
    grid: Grid | None,
    reporter: Resident | None,
    assignee: Worker | None,
    colour: str,
) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "number": ticket.number,
        "category": ticket.category,
        "status": ticket.status,
        "colour": colour,
        "location": _words(ticket.location, False),  # the board is not an audited view
        "grid": grid.code if grid else None,
        "reporter": mask_name(reporter.name if reporter else None),
        "assignee": assignee.name if assignee else None,
        "created_at": ticket.created_at.isoformat(),
        "callback_needed": ticket.callback_needed,
        "urgent": ticket.urgent,
    }


@endpoint(
    "GET",
    "/api/tickets",
    "Tickets, newest first, with their SLA colour",
    roles=BOARD_ROLES,
    item=ITEM,
    paged=True,
    params=(
        Param("status", "ticket state", enum=STATUSES),
        Param("category", "category"),
        Param("grid", "grid code, e.g. G01"),
        Param("colour", "SLA colour", enum=COLOURS),
        Param("callback", "only tickets waiting for a call-back", "boolean"),
    ),
)
async def list_tickets(request: web.Request) -> web.Response:
    """GET /api/tickets."""
    items, limit = await query_tickets(request, principal(request))
    return page(items, limit)


async def query_tickets(request: web.Request, who: Principal) -> tuple[list[dict[str, Any]], int]:
    """The board's rows for the request's filters, as this caller may see them."""
    runtime = request.app[RUNTIME]
    cursor, limit = page_args(request)
    status = choice_param(request, "status", STATUSES)
    colour = choice_param(request, "colour", COLOURS)
    callback = choice_param(request, "callback", ("true", "false"))
    stmt = _scoped(select(Ticket, Grid, Resident, Worker), who)
    stmt = (
        stmt.outerjoin(Grid, Grid.id == Ticket.grid_id)
        .outerjoin(Resident, Resident.id == Ticket.reporter_id)
        .outerjoin(Worker, Worker.id == Ticket.assignee_id)
    )
    if cursor is not None:
        stmt = stmt.where(Ticket.id < cursor)
    if status:
        stmt = stmt.where(Ticket.status == status)
    if category := request.query.get("category"):
        stmt = stmt.where(Ticket.category == category)
    if grid := request.query.get("grid"):  # by id, so ix_tickets_grid_status_id gives the order
        grid_id = select(Grid.id).where(Grid.code == grid).scalar_subquery()
        stmt = stmt.where(Ticket.grid_id == grid_id)
    if callback:
        stmt = stmt.where(Ticket.callback_needed.is_(callback == "true"))
    now = runtime.clock()
    if colour:
        stmt = stmt.where(colour_clause(colour, now))
    async with runtime.sessions() as session:
        rows = (await session.execute(stmt.order_by(Ticket.id.desc()).limit(limit))).all()
    return [_item(t, g, r, w, sla_colour(t, now)) for t, g, r, w in rows], limit


def _words(text: str | None, revealed: bool) -> str | None:
    """Residents' words as this viewer may see them: as typed when revealed, else masked."""
    return text if revealed or not text else mask_text(text)


async def _visible(session: AsyncSession, request: web.Request, who: Principal) -> Ticket:
    ticket = await ticket_by_number(session, request.match_info["number"])
    if ticket is None or (
        who.role == "grid_worker" and (who.grid_id is None or ticket.grid_id != who.grid_id)
    ):  # another grid's ticket does not exist, nor any ticket for an account without a grid
        raise web.HTTPNotFound(text="no such ticket")
    return ticket


@endpoint(
    "GET",
    "/api/tickets/{number}",
    "One ticket with its history and reporter contact",
    roles=BOARD_ROLES,
    item={**ITEM, "events": "array", "contact": "string?", "description": "string?"},
)
async def ticket_detail(request: web.Request) -> web.Response:
    """GET /api/tickets/{number}: unmasked for staff and the worker who accepted it (audited)."""
    return web.json_response(await ticket_view(request, principal(request)))


async def ticket_view(request: web.Request, who: Principal) -> dict[str, Any]:
    """One ticket with history; unmasked only for staff, admin and its acceptor (audited)."""
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        ticket = await _visible(session, request, who)
        reporter = await session.get(Resident, ticket.reporter_id)
        grid = await session.get(Grid, ticket.grid_id) if ticket.grid_id else None
        holder = await session.get(Worker, ticket.assignee_id) if ticket.assignee_id else None
        events = (
            await session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.id)
            )
        ).all()
        reveal = who.sees_personal_details or accepted_by(ticket, who.worker_id)
        if reveal:  # every unmasked view is audited, whatever it shows
            audit(session, who.name, "view_personal", f"ticket:{ticket.number}", "ticket detail")
        phone = reporter.phone if reporter else None
        body = _item(ticket, grid, reporter, holder, sla_colour(ticket, runtime.clock()))
        body["location"] = _words(ticket.location, reveal)
        body["description"] = _words(ticket.description, reveal)
        body["contact"] = (phone if reveal else mask_phone(phone)) if phone else None
        body["events"] = [
            {
                "kind": e.kind,
                "from": e.from_status,
                "to": e.to_status,
                "actor": e.actor,
                "note": _words(e.note, reveal),
                "photo_url": e.photo_url,
                "at": e.created_at.isoformat(),
            }
            for e in events
        ]
    return body


@endpoint(
    "POST",
    "/api/tickets/{number}/dispatch",
    "Give a ticket to a worker (by name)",
    roles=MANAGERS,
    body={"worker": "string"},
    item=ITEM,
    errors=(409,),
)
async def dispatch_ticket(request: web.Request) -> web.Response:
    """POST /api/tickets/{number}/dispatch {"worker": "王建国"}."""
    runtime, who = request.app[RUNTIME], principal(request)
    data = await json_body(request, ["worker"])
    async with runtime.sessions() as session, session.begin():
        ticket = await _visible(session, request, who)
        worker = (
            await session.scalars(select(Worker).where(Worker.name == data["worker"]))
        ).first()
        if worker is None:
            return error(400, "bad_request", f"no worker named {data['worker']!r}")
        try:
            await ticket_actions.assign(
                session, runtime.services, ticket, runtime.clock(), worker, who.name
            )
        except ActionRefused as refused:
            return error(409, "conflict", str(refused))
        audit(session, who.name, "dispatch", f"ticket:{ticket.number}", worker.name)
        result = _item(ticket, None, None, worker, sla_colour(ticket, runtime.clock()))
    runtime.wake_outbox()
    return web.json_response(result)


@endpoint(
    "POST",
    "/api/tickets/{number}/comments",
    "Add a note to a ticket's history",
    roles=MANAGERS,
    body={"note": "string"},
    item={"ok": "boolean"},
)
async def comment_ticket(request: web.Request) -> web.Response:
    """POST /api/tickets/{number}/comments {"note": "..."}."""
    runtime, who = request.app[RUNTIME], principal(request)
    data = await json_body(request, ["note"])
    async with runtime.sessions() as session, session.begin():
        ticket = await _visible(session, request, who)
        await record_event(session, ticket, "comment", who.name, note=data["note"][:2000])
    return web.json_response({"ok": True})


@endpoint(
    "POST",
    "/api/tickets/{number}/callback",
    "Record the phone call-back after a low rating",
    roles=MANAGERS,
    body={"note": "string"},
    item={"ok": "boolean"},
    errors=(409,),
)
async def record_callback(request: web.Request) -> web.Response:
    """POST /api/tickets/{number}/callback {"note": "..."}: the 回访 is done."""
    runtime, who = request.app[RUNTIME], principal(request)
    data = await json_body(request, ["note"])
    async with runtime.sessions() as session, session.begin():
        ticket = await _visible(session, request, who)
        if not ticket.callback_needed or ticket.callback_done_at is not None:
            return error(409, "conflict", "this ticket is not waiting for a call-back")
        ticket.callback_done_at = runtime.clock()
        await record_event(session, ticket, "callback", who.name, note=data["note"][:2000])
        audit(session, who.name, "callback", f"ticket:{ticket.number}")
    return web.json_response({"ok": True})


@endpoint(
    "POST",
    "/api/tickets/{number}/close",
    "Close a ticket with a note (staff finish it)",
    roles=MANAGERS,
    body={"note": "string"},
    item=ITEM,
    errors=(409,),
)
async def close_ticket(request: web.Request) -> web.Response:
    """POST /api/tickets/{number}/close {"note": "..."}: resolved (if open), then closed."""
    runtime, who = request.app[RUNTIME], principal(request)
    data = await json_body(request, ["note"])
    note = data["note"][:500]
    async with runtime.sessions() as session, session.begin():
        ticket = await _visible(session, request, who)
        now = runtime.clock()
        try:
            if ticket.status in OPEN_STATUSES:
                await move(session, ticket, "resolved", who.name, now, note=note)
            await move(session, ticket, "closed", who.name, now, note=note)
        except TransitionError:
            return error(409, "conflict", f"ticket {ticket.number} is {ticket.status}")
        await tell_reporters(
            session, ticket, f"您的工单 {ticket.number} 已办结：{note[:100]}", "ticket_closed"
        )
        audit(session, who.name, "close", f"ticket:{ticket.number}", note[:100])
        item = _item(ticket, None, None, None, sla_colour(ticket, now))
    runtime.wake_outbox()
    return web.json_response(item)
