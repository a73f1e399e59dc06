"""The web console's pages: ticket board, ticket, conversation search and transcript, stats.

Server-rendered (Jinja2 with autoescape: residents' words are untrusted), in Chinese, and
usable on a phone. The data comes from the same queries as the admin API.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bot.runtime import RUNTIME
from bot.web.api.core import Principal
from bot.web.api.messages import query_messages, query_transcript
from bot.web.api.stats import stats_csv, stats_rows
from bot.web.api.tickets import query_tickets, ticket_view
from bot.web.console.auth import (
    check_csrf,
    check_login_csrf,
    csrf_token,
    end_login_form,
    log_in,
    log_out,
    login_nonce,
    login_token,
    page,
    set_login_nonce,
    set_session,
)
from bot.web.console.notices import back_with, notice_text
from bot.web.logins import LoginRefused
from handlers import ticket_service
from handlers.errors import Conflict, Invalid, NotFound
from handlers.sla import COLOUR_WORDS
from handlers.ticket_actions import STEP_WORDS
from storage.community import worker_names

BOARD = ("admin", "staff", "grid_worker")
MANAGERS = ("admin", "staff")
LOGIN_REFUSED = {
    401: "用户名或密码不对。",
    429: "登录失败次数太多。",
}
LOGIN_BUSY = "登录的人太多，请稍后再试。"
COLOUR_NAMES = {
    "green": "正常",
    "blue": "办理中",
    "yellow": "临期",
    "red": "超时",
    "grey": "已撤销",
}


def base_context(request: web.Request, who: Principal | None, **extra: Any) -> dict[str, Any]:
    services = request.app[RUNTIME].services
    return {
        "community": services.community,
        "who": who,
        "csrf": csrf_token(request) if who else "",
        "labels": services.category_labels,
        "status_words": STEP_WORDS,
        "colour_words": COLOUR_WORDS,
        "message": notice_text(request.query),
        **extra,
    }


async def home(request: web.Request) -> web.Response:
    """GET /admin/: the board."""
    raise web.HTTPFound("/admin/tickets")


def _login_page(request: web.Request, error: str = "", status: int = 200) -> web.Response:
    """The login form with its CSRF token, and the cookie holding the nonce it is made from."""
    nonce = login_nonce(request)
    context = base_context(request, None, error=error, csrf=login_token(request, nonce))
    response = aiohttp_jinja2.render_template("login.html", request, context, status=status)
    set_login_nonce(response, request, nonce)
    return response


async def login_form(request: web.Request) -> web.Response:
    """GET /admin/login."""
    return _login_page(request)


async def login(request: web.Request) -> web.Response:
    """POST /admin/login: a session cookie, or the form again with a reason."""
    form = await request.post()
    if not check_login_csrf(request, form):
        return _login_page(request, "登录页面已过期或来自别的网站，请重新输入后登录。", 403)
    username, password = str(form.get("username", ""))[:64], str(form.get("password", ""))
    try:
        token = await log_in(request, username.strip(), password)
    except LoginRefused as refused:
        error = LOGIN_REFUSED.get(refused.status, LOGIN_BUSY)
        if refused.retry_after:
            error += f"请 {refused.retry_after} 秒后再试。"
        response = _login_page(request, error, refused.status)
        if refused.retry_after:
            response.headers["Retry-After"] = refused.retry_after
        return response
    response = web.HTTPSeeOther("/admin/tickets")
    set_session(response, request, token)
    end_login_form(response)
    raise response


async def logout(request: web.Request) -> web.Response:
    """POST /admin/logout: the session's token ends, then the cookie goes."""
    await check_csrf(request)
    await log_out(request)
    response = web.HTTPSeeOther("/admin/login")
    response.del_cookie("linli_session", path="/")
    raise response


@page(*BOARD)
async def board(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/tickets: the board with colours and filters."""
    problem = {}
    try:
        items, limit = await query_tickets(request, who)
    except Invalid as bad:  # the filter's own fixed text, not the link's
        items, limit, problem = [], 0, {"message": bad.reason}
    query = {k: v for k, v in request.query.items() if k != "cursor"}
    full = bool(items) and len(items) == limit  # a bad filter: no items, no next page
    next_page = urlencode({**query, "cursor": items[-1]["id"]}) if full else ""
    context = base_context(
        request,
        who,
        items=items,
        next=next_page,
        filters=request.query,
        colours=list(COLOUR_NAMES.items()),
        statuses=list(STEP_WORDS.items()),
        **problem,
    )
    return aiohttp_jinja2.render_template("tickets.html", request, context)


@page(*BOARD)
async def ticket(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/tickets/{number}."""
    view = await ticket_view(request, who)
    async with request.app[RUNTIME].sessions() as session:
        names = await worker_names(session)
    context = base_context(request, who, t=view, workers=names, manager=who.role in MANAGERS)
    return aiohttp_jinja2.render_template("ticket.html", request, context)


@page(*MANAGERS)
async def dispatch(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/tickets/{number}/dispatch: give it to the chosen worker."""
    form = await check_csrf(request)
    runtime, number = request.app[RUNTIME], request.match_info["number"]
    name = str(form.get("worker", ""))
    async with runtime.sessions() as session, session.begin():
        try:
            await ticket_service.staff_dispatch(
                session, runtime.services, who, number, name, runtime.clock()
            )
            code = "dispatched"
        except (NotFound, Invalid):
            raise web.HTTPNotFound(text="no such ticket or worker") from None
        except Conflict:
            code = "dispatch_refused"
    runtime.wake_outbox()
    raise back_with(f"/admin/tickets/{number}", code, n=number)


@page(*MANAGERS)
async def comment(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/tickets/{number}/comment."""
    form = await check_csrf(request)
    runtime, number = request.app[RUNTIME], request.match_info["number"]
    note = str(form.get("note", "")).strip()[:2000]
    async with runtime.sessions() as session, session.begin():
        await ticket_service.comment(session, who, number, note)
    raise back_with(f"/admin/tickets/{number}", "comment_added")


@page(*MANAGERS)
async def conversations(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/conversations?q=: search what residents said."""
    q = request.query.get("q", "").strip()
    items = (await query_messages(request, who))[0] if q else []
    context = base_context(request, who, items=items, q=q)
    return aiohttp_jinja2.render_template("conversations.html", request, context)


@page(*MANAGERS)
async def transcript(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/conversations/{id}: one conversation with NLU results and actions."""
    items, _ = await query_transcript(request, who)
    context = base_context(request, who, items=items, conversation_id=request.match_info["id"])
    return aiohttp_jinja2.render_template("transcript.html", request, context)


@page(*BOARD)
async def stats(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/stats."""
    rows = await stats_rows(request, who)
    charts = {
        group: [r for r in rows if r["group"] == group]
        for group in ("category", "grid", "week_category")
    }
    weeks: dict[str, int] = {}
    for row in charts.pop("week_category"):
        week = str(row["name"]).split()[0]
        weeks[week] = weeks.get(week, 0) + int(row["tickets"] or 0)
    charts["week"] = [{"name": w, "tickets": n} for w, n in sorted(weeks.items())]
    top = max([int(r["tickets"] or 0) for group in charts.values() for r in group] or [1])
    context = base_context(request, who, rows=rows, charts=charts, top=max(top, 1))
    return aiohttp_jinja2.render_template("stats.html", request, context)


@page(*BOARD)
async def stats_export(request: web.Request, who: Principal) -> web.StreamResponse:
    """GET /admin/stats.csv."""
    return await stats_csv(request, who)


def register(app: web.Application) -> None:
    """Add the console's routes under /admin/."""
    import jinja2

    aiohttp_jinja2.setup(
        app, loader=jinja2.PackageLoader("bot.web.console", "templates"), autoescape=True
    )
    app.router.add_get("/admin", home)
    app.router.add_get("/admin/", home)
    app.router.add_get("/admin/login", login_form)
    app.router.add_post("/admin/login", login)
    app.router.add_post("/admin/logout", logout)
    app.router.add_get("/admin/tickets", board)
    app.router.add_get("/admin/tickets/{number}", ticket)
    app.router.add_post("/admin/tickets/{number}/dispatch", dispatch)
    app.router.add_post("/admin/tickets/{number}/comment", comment)
    app.router.add_get("/admin/conversations", conversations)
    app.router.add_get("/admin/conversations/{id}", transcript)
    app.router.add_get("/admin/stats", stats)
    app.router.add_get("/admin/stats.csv", stats_export)
