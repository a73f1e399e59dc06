"""The ticket board (挂图销号) over the API: list with SLA colours, detail, dispatch, comment."""

from __future__ import annotations

from typing import Any

from aiohttp import web

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
from handlers import ticket_service
from handlers.sla import sla_colour
from storage.accounts import audit
from storage.community import Grid, Worker
from storage.privacy import mask_name, mask_phone, mask_text
from storage.residents import Resident
from storage.ticket_flow import accepted_by
from storage.tickets import Ticket, TicketFilter

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


def ticket_filter(request: web.Request) -> TicketFilter:
    """The board's filters from the query string (Invalid naming a bad one): API and console."""
    cursor, limit = page_args(request)
    status = choice_param(request, "status", STATUSES)
    colour = choice_param(request, "colour", COLOURS)
    callback = choice_param(request, "callback", ("true", "false"))
    return TicketFilter(
        status=status,
        category=request.query.get("category") or None,
        grid=request.query.get("grid") or None,
        colour=colour,
        callback=None if callback is None else callback == "true",
        cursor=cursor,
        limit=limit,
    )


async def query_tickets(request: web.Request, who: Principal) -> tuple[list[dict[str, Any]], int]:
    """The board's rows for the request's filters, as this caller may see them."""
    runtime = request.app[RUNTIME]
    wanted = ticket_filter(request)
    now = runtime.clock()
    async with runtime.sessions() as session:
        rows = await ticket_service.board(session, who, wanted, now)
    return [_item(t, g, r, w, sla_colour(t, now)) for t, g, r, w in rows], wanted.limit


def _words(text: str | None, revealed: bool) -> str | None:
    """Residents' words as this viewer may see them: as typed when revealed, else masked."""
    return text if revealed or not text else mask_text(text)


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
        found = await ticket_service.ticket_detail(session, who, request.match_info["number"])
        ticket, reporter, events = found.ticket, found.reporter, found.events
        reveal = who.sees_personal_details or accepted_by(ticket, who.worker_id)
        if reveal:  # every unmasked view is audited, whatever it shows
            audit(session, who.name, "view_personal", f"ticket:{ticket.number}", "ticket detail")
        phone = reporter.phone if reporter else None
        body = _item(
            ticket, found.grid, reporter, found.holder, sla_colour(ticket, runtime.clock())
        )
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
        ticket, worker = await ticket_service.staff_dispatch(
            session,
            runtime.services,
            who,
            request.match_info["number"],
            data["worker"],
            runtime.clock(),
        )
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
        await ticket_service.comment(session, who, request.match_info["number"], data["note"])
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
        await ticket_service.record_callback(
            session, who, request.match_info["number"], data["note"], runtime.clock()
        )
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
    now = runtime.clock()
    async with runtime.sessions() as session, session.begin():
        ticket = await ticket_service.close(
            session, who, request.match_info["number"], data["note"], now
        )
        item = _item(ticket, None, None, None, sla_colour(ticket, now))
    runtime.wake_outbox()
    return web.json_response(item)
