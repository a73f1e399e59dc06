"""The same board for bookings, home-care orders and wishes: lists with state filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bot.web.api.bookings import STATUSES as BOOKING_STATES
from bot.web.api.bookings import query_bookings
from bot.web.api.core import Principal
from bot.web.api.services import ORDER_STATUSES, WISH_STATUSES, query_orders, query_wishes
from bot.web.console.auth import page
from bot.web.console.views import base_context

STATE_WORDS = {
    "booked": "已预约",
    "cancelled": "已取消",
    "attended": "已到场",
    "no_show": "未到",
    "requested": "待接单",
    "claimed": "已接单",
    "visiting": "上门中",
    "completed": "已完成",
    "reviewed": "已回访",
    "submitted": "待审核",
    "approved": "已公开",
    "fulfilled": "已圆梦",
    "thanked": "已答谢",
    "rejected": "未通过",
}
BOARDS: dict[str, dict[str, Any]] = {
    "bookings": {
        "title": "康复预约与活动报名",
        "states": BOOKING_STATES,
        "columns": [
            ("number", "编号"),
            ("kind", "类型"),
            ("title", "项目"),
            ("station", "地点"),
            ("starts_at", "时间"),
            ("person", "服务对象"),
        ],
    },
    "orders": {
        "title": "居家养老服务订单",
        "states": ORDER_STATUSES,
        "columns": [
            ("number", "编号"),
            ("service_item", "服务"),
            ("elder", "老人"),
            ("scheduled_at", "时间"),
            ("provider", "服务组织"),
            ("worked_minutes", "服务分钟"),
        ],
    },
    "wishes": {
        "title": "微心愿",
        "states": WISH_STATUSES,
        "columns": [
            ("number", "编号"),
            ("wish", "心愿"),
            ("for_whom", "为谁"),
            ("due", "期望时间"),
            ("created_at", "提交时间"),
        ],
    },
}


async def _render(
    request: web.Request, who: Principal, board: str, items: list[Any], limit: int
) -> web.Response:
    spec = BOARDS[board]
    query = {k: v for k, v in request.query.items() if k != "cursor"}
    next_page = urlencode({**query, "cursor": items[-1]["id"]}) if len(items) == limit else ""
    context = base_context(
        request,
        who,
        board=board,
        spec=spec,
        items=items,
        next=next_page,
        state=request.query.get("status", ""),
        state_words=STATE_WORDS,
    )
    return aiohttp_jinja2.render_template("board.html", request, context)


@page("admin", "staff")
async def bookings(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/bookings."""
    items, limit = await query_bookings(request)
    return await _render(request, who, "bookings", items, limit)


@page("admin", "staff", "provider")
async def orders(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/orders (a provider sees its own and the unclaimed)."""
    items, limit = await query_orders(request, who)
    return await _render(request, who, "orders", items, limit)


@page("admin", "staff", "volunteer")
async def wishes(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/wishes (a volunteer sees the public list only)."""
    items, limit = await query_wishes(request, who)
    return await _render(request, who, "wishes", items, limit)


def register(app: web.Application) -> None:
    """Add the three boards."""
    app.router.add_get("/admin/bookings", bookings)
    app.router.add_get("/admin/orders", orders)
    app.router.add_get("/admin/wishes", wishes)
