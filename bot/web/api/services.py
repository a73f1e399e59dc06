"""Home-care orders and micro-wishes over the API, each scoped to the roles that may see them.

A provider sees only its own orders (and the open ones it may claim); staff see all. A
volunteer sees only the public wish list, staff see every wish with its state.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import or_, select

from bot.runtime import RUNTIME
from bot.web.api.core import Param, Principal, choice_param, endpoint, page, page_args, principal
from storage.home_care import CareElder, CareOrder, CareProvider
from storage.privacy import mask_name, mask_text
from storage.wishes import PUBLIC_STATUSES, Wish

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


def _scope_orders(stmt: Any, who: Principal) -> Any:
    if who.role == "provider":
        mine = CareOrder.provider_id == (who.provider_id if who.provider_id else -1)
        return stmt.where(or_(mine, CareOrder.status == "requested"))
    return stmt


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


async def query_orders(request: web.Request, who: Principal) -> tuple[list[dict[str, Any]], int]:
    """Home-care orders for the request's filters, as this caller may see them."""
    runtime = request.app[RUNTIME]
    cursor, limit = page_args(request)
    stmt = _scope_orders(
        select(CareOrder, CareElder.name, CareProvider.name)
        .join(CareElder, CareElder.id == CareOrder.elder_id)
        .outerjoin(CareProvider, CareProvider.id == CareOrder.provider_id),
        who,
    )
    if cursor is not None:
        stmt = stmt.where(CareOrder.id < cursor)
    if status := choice_param(request, "status", ORDER_STATUSES):
        stmt = stmt.where(CareOrder.status == status)
    if month := request.query.get("month"):
        stmt = stmt.where(CareOrder.quota_month == month[:7])
    async with runtime.sessions() as session:
        rows = (await session.execute(stmt.order_by(CareOrder.id.desc()).limit(limit))).all()
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
    return items, limit


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


async def query_wishes(request: web.Request, who: Principal) -> tuple[list[dict[str, Any]], int]:
    """Wishes for the request's filters; volunteers only the public ones."""
    runtime = request.app[RUNTIME]
    cursor, limit = page_args(request)
    stmt = select(Wish)
    status = choice_param(request, "status", WISH_STATUSES)
    if who.role == "volunteer":
        stmt = stmt.where(Wish.status.in_(PUBLIC_STATUSES))
    elif status:
        stmt = stmt.where(Wish.status == status)
    if cursor is not None:
        stmt = stmt.where(Wish.id < cursor)
    async with runtime.sessions() as session:
        found = (await session.scalars(stmt.order_by(Wish.id.desc()).limit(limit))).all()
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
    return items, limit
