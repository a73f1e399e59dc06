"""Rehab and activity bookings over the API: the list, and attendance marked by staff."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.responses import error
from bot.runtime import RUNTIME
from bot.web.api.core import Param, choice_param, endpoint, json_body, page, page_args, principal
from storage.accounts import audit
from storage.bookings import booking_item, list_bookings, mark_attendance
from storage.privacy import mask_name

ROLES = ("admin", "staff")
KINDS = ("rehab", "activity")
STATUSES = ("booked", "cancelled", "attended", "no_show")
ITEM = {
    "id": "integer",
    "number": "string?",
    "kind": "string",
    "station": "string",
    "title": "string",
    "starts_at": "string",
    "status": "string",
    "resident": "integer",
    "person": "string?",
}


def _item(booking: Any) -> dict[str, Any]:
    item = booking_item(booking)
    item["person"] = mask_name(str(item["person"])) if item.get("person") else None
    return item


@endpoint(
    "GET",
    "/api/bookings",
    "Rehab sessions and activity sign-ups, newest first",
    roles=ROLES,
    item=ITEM,
    paged=True,
    params=(
        Param("kind", "rehab or activity", enum=KINDS),
        Param("status", "booking state", enum=STATUSES),
    ),
)
async def bookings(request: web.Request) -> web.Response:
    """GET /api/bookings."""
    items, limit = await query_bookings(request)
    return page(items, limit)


async def query_bookings(request: web.Request) -> tuple[list[dict[str, Any]], int]:
    """Bookings for the request's filters, newest first."""
    runtime = request.app[RUNTIME]
    cursor, limit = page_args(request)
    kind = choice_param(request, "kind", KINDS)
    status = choice_param(request, "status", STATUSES)
    async with runtime.sessions() as session:
        found = await list_bookings(
            session, kind=kind, status=status, before_id=cursor, limit=limit
        )
        items = [_item(b) for b in found]
    return items, limit


@endpoint(
    "POST",
    "/api/bookings/{number}/attendance",
    "Mark whether the person came",
    roles=ROLES,
    body={"status": "string"},
    item=ITEM,
)
async def attendance(request: web.Request) -> web.Response:
    """POST /api/bookings/{number}/attendance {"status": "attended" | "no_show"}."""
    runtime, who = request.app[RUNTIME], principal(request)
    data = await json_body(request, ["status"])
    if data["status"] not in ("attended", "no_show"):
        return error(400, "bad_request", "status must be attended or no_show")
    number = request.match_info["number"].upper()
    async with runtime.sessions() as session, session.begin():
        booking = await mark_attendance(session, number, data["status"], who.name, runtime.clock())
        if booking is None:
            raise web.HTTPNotFound(text="no such booking")
        audit(session, who.name, "attendance", f"booking:{number}", data["status"])
        item = _item(booking)
    return web.json_response(item)
