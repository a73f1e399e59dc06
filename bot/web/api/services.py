"""Home-care orders and micro-wishes over the API, each scoped to the roles that may see them.

A provider sees only its own orders (and the open ones it may claim); staff see all. A
volunteer sees only the public wish list, staff see every wish with its state.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.runtime import RUNTIME
from bot.web.api.core import Param, Principal, choice_param, endpoint, page, page_args, principal
from storage.home_care_orders import OrderFilter, order_rows
from storage.privacy import mask_name, mask_text
from storage.wishes import WishFilter, wish_rows

ORDER_STATUSES = ("requested", "claimed", "visiting", "completed", "reviewed", "cancelled")
WISH_STATUSES = ("submitted", "approved", "claimed", "fulfilled", "thanked", "rejected")
ORDER_ITEM = {
    "id": "integer",
    "number": "string",
    "service_item": "string",
    "elder": "string",
    "scheduled_at": "string",
    "status": "string",
    "provider": "string?",
    "expected_minutes": "integer",
    "worked_minutes": "integer?",
    "month": "string",
}
WISH_ITEM = {
    "id": "integer",
    "number": "string?",
    "wish": "string",
    "for_whom": "string?",
    "due": "string?",
    "status": "string",
    "created_at": "string",
}


@endpoint(
    "GET",
    "/api/orders",
    "Home-care orders (a provider sees its own and the unclaimed)",
    roles=("admin", "staff", "provider"),
    item=ORDER_ITEM,
    paged=True,
    params=(
        Param("status", "order state", enum=ORDER_STATUSES),
        Param("month", "quota month, e.g. 2026-11"),
    ),
)
async def orders(request: web.Request) -> web.Response:
    """GET /api/orders."""
    items, limit = await query_orders(request, principal(request))
    return page(items, limit)


def order_filter(request: web.Request) -> OrderFilter:
    """The order list's filters from the query string (Invalid naming a bad one)."""
    cursor, limit = page_args(request)
    return OrderFilter(
        status=choice_param(request, "status", ORDER_STATUSES),
        month=request.query.get("month") or None,
        cursor=cursor,
        limit=limit,
    )


async def query_orders(request: web.Request, who: Principal) -> tuple[list[dict[str, Any]], int]:
    """Home-care orders for the request's filters, as this caller may see them."""
    runtime = request.app[RUNTIME]
    wanted = order_filter(request)
    mine = (who.provider_id or -1) if who.role == "provider" else None
    async with runtime.sessions() as session:
        rows = await order_rows(session, wanted, provider_id=mine)
    items = [
        {
            "id": o.id,
            "number": o.number,
            "service_item": o.service_item,
            "elder": mask_name(elder),
            "scheduled_at": o.scheduled_at.isoformat(),
            "status": o.status,
            "provider": provider,
            "expected_minutes": o.expected_minutes,
            "worked_minutes": o.worked_minutes,
            "month": o.quota_month,
        }
        for o, elder, provider in rows
    ]
    return items, wanted.limit


@endpoint(
    "GET",
    "/api/wishes",
    "Micro-wishes (volunteers see only the public, approved ones)",
    roles=("admin", "staff", "volunteer"),
    item=WISH_ITEM,
    paged=True,
    params=(Param("status", "wish state (staff)", enum=WISH_STATUSES),),
)
async def wishes(request: web.Request) -> web.Response:
    """GET /api/wishes."""
    items, limit = await query_wishes(request, principal(request))
    return page(items, limit)


def wish_filter(request: web.Request) -> WishFilter:
    """The wish list's filters from the query string (Invalid naming a bad one)."""
    cursor, limit = page_args(request)
    return WishFilter(
        status=choice_param(request, "status", WISH_STATUSES), cursor=cursor, limit=limit
    )


async def query_wishes(request: web.Request, who: Principal) -> tuple[list[dict[str, Any]], int]:
    """Wishes for the request's filters; volunteers only the public ones."""
    runtime = request.app[RUNTIME]
    wanted = wish_filter(request)
    async with runtime.sessions() as session:
        found = await wish_rows(session, wanted, public_only=who.role == "volunteer")
    items = [
        {
            "id": w.id,
            "number": w.number,
            "wish": mask_text(w.wish),
            "for_whom": mask_text(w.for_whom),
            "due": mask_text(w.due_text) if w.due_text else None,
            "status": w.status,
            "created_at": w.created_at.isoformat(),
        }
        for w in found
    ]
    return items, wanted.limit
