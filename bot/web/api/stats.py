"""Statistics over the API: JSON or CSV figures, and a printable monthly summary (晒单)."""

from __future__ import annotations

import csv
import html
import io
from datetime import date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from bot.runtime import RUNTIME
from bot.web.api.core import Param, Principal, choice_param, endpoint, principal
from storage.accounts import audit
from storage.community import grid_id_of
from storage.stats import LOCAL, Figures, Report, ticket_report

STATS_ROLES = ("admin", "staff", "grid_worker")
COLUMNS = (
    "tickets",
    "resolved",
    "median_accept_minutes",
    "median_resolve_hours",
    "sla_met_percent",
    "satisfied_percent",
    "average_rating",
)
NUMBERS = dict.fromkeys(COLUMNS, "number?")
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _pct(value: float | int | None) -> str:
    return "—" if value is None else f"{value}%"


def _within_years(day: date, name: str) -> None:
    """Dates far from now overflow when shifted to UTC or to the next month: 400, not 500."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise web.HTTPBadRequest(text=f"{name} must be between {FIRST_YEAR} and {LAST_YEAR}")


def _day(request: web.Request, name: str, default: date) -> datetime:
    raw = request.query.get(name)
    try:
        day = date.fromisoformat(raw) if raw else default
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a date like 2026-11-01") from None
    _within_years(day, name)
    return datetime.combine(day, time(), tzinfo=LOCAL)


async def _report(request: web.Request, who: Principal, start: datetime, end: datetime) -> Report:
    runtime = request.app[RUNTIME]
    if end <= start or end - start > timedelta(days=400):
        raise web.HTTPBadRequest(text="`to` must be after `from`, at most 400 days later")
    async with runtime.sessions() as session, session.begin():
        grid_id = who.grid_id if who.role == "grid_worker" else None
        if who.role == "grid_worker" and grid_id is None:
            raise web.HTTPForbidden(text="this account is not linked to a grid")
        if code := request.query.get("grid"):
            found = await grid_id_of(session, code)
            if found is None or (grid_id is not None and found != grid_id):
                raise web.HTTPNotFound(text=f"no grid {code!r}")
            grid_id = found
        audit(session, who.name, "view_stats", "stats", f"{start.date()}..{end.date()}")
        return await ticket_report(session, start, end, grid_id)


def _rows(report: Report) -> list[dict[str, Any]]:
    rows = [{"group": "all", "name": "全部", **report.overall.row()}]
    for (week, category), figures in sorted(report.by_week_category.items()):
        rows.append({"group": "week_category", "name": f"{week} {category}", **figures.row()})
    for kind, groups in (
        ("grid", report.by_grid),
        ("unit", report.by_unit),
        ("category", report.by_category),
    ):
        rows += [{"group": kind, "name": name, **f.row()} for name, f in sorted(groups.items())]
    return rows


@endpoint(
    "GET",
    "/api/stats",
    "Ticket figures by week and category, grid and unit (JSON or CSV)",
    roles=STATS_ROLES,
    item={"group": "string", "name": "string", **NUMBERS},
    params=(
        Param("from", "first day (local), default 30 days ago"),
        Param("to", "day after the last (local), default tomorrow"),
        Param("grid", "one grid's code"),
        Param("format", "json or csv", enum=("json", "csv")),
    ),
    errors=(404,),
    media=("application/json", "text/csv"),
)
async def stats(request: web.Request) -> web.StreamResponse:
    """GET /api/stats."""
    who = principal(request)
    if choice_param(request, "format", ("json", "csv")) == "csv":
        return await stats_csv(request, who)
    return web.json_response({"items": await stats_rows(request, who)})


def _range(request: web.Request) -> tuple[datetime, datetime]:
    today = request.app[RUNTIME].clock().astimezone(LOCAL).date()
    start = _day(request, "from", today - timedelta(days=30))
    return start, _day(request, "to", today + timedelta(days=1))


async def stats_rows(request: web.Request, who: Principal) -> list[dict[str, Any]]:
    """The figures for the request's range and grid, as this caller may see them."""
    start, end = _range(request)
    return _rows(await _report(request, who, start, end))


async def stats_csv(request: web.Request, who: Principal) -> web.Response:
    """The same figures as a CSV download (UTF-8 with a BOM for Excel)."""
    start, end = _range(request)
    rows = _rows(await _report(request, who, start, end))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["group", "name", *COLUMNS])
    writer.writeheader()
    writer.writerows(rows)
    return web.Response(
        body=("\ufeff" + out.getvalue()).encode("utf-8"),  # BOM: Excel opens Chinese right
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="linli-{start.date()}.csv"'},
    )


def _table(title: str, groups: dict[str, Figures], labels: dict[str, str]) -> str:
    e = html.escape
    head = "<tr><th>{}</th><th>件数</th><th>办结</th><th>按时办结率</th><th>满意率</th></tr>"
    lines = [
        f"<tr><td>{e(labels.get(name, name))}</td><td>{row['tickets']}</td>"
        f"<td>{row['resolved']}</td><td>{_pct(row['sla_met_percent'])}</td>"
        f"<td>{_pct(row['satisfied_percent'])}</td></tr>"
        for name, f in sorted(groups.items())
        for row in [f.row()]
    ]
    return f"<h2>{e(title)}</h2><table>{head.format(e(title[:2]))}{''.join(lines)}</table>"


@endpoint(
    "GET",
    "/api/stats/monthly",
    "A printable monthly summary for publishing (晒单)",
    roles=("admin", "staff"),
    params=(Param("month", "e.g. 2026-11"),),
    media=("text/html",),
)
async def monthly(request: web.Request) -> web.Response:
    """GET /api/stats/monthly?month=2026-11: an HTML page without personal details."""
    runtime = request.app[RUNTIME]
    raw = request.query.get("month") or runtime.clock().astimezone(LOCAL).strftime("%Y-%m")
    try:
        first = date.fromisoformat(f"{raw}-01")
    except ValueError:
        raise web.HTTPBadRequest(text="month must look like 2026-11") from None
    _within_years(first, "month")
    after = (first + timedelta(days=32)).replace(day=1)
    start = datetime.combine(first, time(), tzinfo=LOCAL)
    end = datetime.combine(after, time(), tzinfo=LOCAL)
    report = await _report(request, principal(request), start, end)
    labels = runtime.services.category_labels
    total = report.overall.row()
    body = (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(runtime.services.community)} {first:%Y年%m月} 为民办事晒单</title>"
        "<style>body{font:16px/1.6 sans-serif;max-width:50em;margin:auto;padding:1em}"
        "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.3em}"
        "@media print{body{max-width:none}}</style></head><body>"
        f"<h1>{html.escape(runtime.services.community)} {first:%Y年%m月} 为民办事晒单</h1>"
        f"<p>本月受理居民诉求 {total['tickets']} 件，办结 {total['resolved']} 件，"
        f"按时办结率 {_pct(total['sla_met_percent'])}，"
        f"居民满意率 {_pct(total['satisfied_percent'])}。</p>"
        + _table("分类统计", report.by_category, labels)
        + _table("网格统计", report.by_grid, {})
        + _table("包联单位", report.by_unit, {})
        + "</body></html>"
    )
    return web.Response(text=body, content_type="text/html", charset="utf-8")
