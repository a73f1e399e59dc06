"""Accounts in the console (admins): users with their tokens, deactivate, revoke.

The same operations as the API's (handlers/accounts.py), each audited; a token is listed by
its label and dates, never its value.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.runtime import RUNTIME
from bot.web.api.core import Principal
from bot.web.console.auth import check_csrf, page
from bot.web.console.notices import back_with
from bot.web.console.views import base_context
from handlers.accounts import revoke_token_by_id, revoke_user_tokens, set_user_active
from handlers.errors import Conflict
from storage.accounts import list_users, live_token_counts, live_tokens_of, user_by_id
from storage.base import row_id

ROLE_WORDS = {
    "admin": "管理员",
    "staff": "社区工作人员",
    "grid_worker": "网格员",
    "provider": "服务组织",
    "volunteer": "志愿者",
}
MAX_ROWS = 200


def _back(user_id: int | None, code: str, **numbers: int) -> web.HTTPSeeOther:
    return back_with(f"/admin/users/{user_id}" if user_id else "/admin/users", code, **numbers)


@page("admin")
async def accounts(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/users: every account, whether it may log in, how many tokens it holds."""
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session:
        users = await list_users(session, None, MAX_ROWS)
        counts = await live_token_counts(session, [u.id for u in users], runtime.clock())
    items = [{"user": u, "tokens": counts.get(u.id, 0)} for u in users]
    context = base_context(request, who, items=items, role_words=ROLE_WORDS)
    return aiohttp_jinja2.render_template("users.html", request, context)


@page("admin")
async def account(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/users/{id}: one account and its unexpired tokens."""
    runtime = request.app[RUNTIME]
    user_id = row_id(request.match_info["id"])
    async with runtime.sessions() as session:
        user = await user_by_id(session, user_id) if user_id else None
        if user is None:
            raise web.HTTPNotFound(text="no such user")
        tokens = await live_tokens_of(session, user.id, runtime.clock(), None, MAX_ROWS)
    context = base_context(request, who, user=user, tokens=tokens, role_words=ROLE_WORDS)
    return aiohttp_jinja2.render_template("user.html", request, context)


@page("admin")
async def deactivate(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/users/{id}/deactivate: no more logins, every token revoked."""
    await check_csrf(request)
    user_id = row_id(request.match_info["id"])
    try:
        async with request.app[RUNTIME].sessions() as session, session.begin():
            await set_user_active(session, who.name, who.user_id, user_id, False)
    except Conflict:
        raise _back(user_id, "self_deactivate") from None
    raise _back(user_id, "user_deactivated")


@page("admin")
async def reactivate(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/users/{id}/reactivate: may log in again (no old token comes back)."""
    await check_csrf(request)
    user_id = row_id(request.match_info["id"])
    async with request.app[RUNTIME].sessions() as session, session.begin():
        await set_user_active(session, who.name, who.user_id, user_id, True)
    raise _back(user_id, "user_reactivated")


@page("admin")
async def revoke_all(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/users/{id}/tokens/revoke: every session and API token of the user ends."""
    await check_csrf(request)
    user_id = row_id(request.match_info["id"])
    async with request.app[RUNTIME].sessions() as session, session.begin():
        _, revoked = await revoke_user_tokens(session, who.name, user_id)
    raise _back(user_id, "tokens_revoked", n=revoked)


@page("admin")
async def revoke_one(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/tokens/{id}/revoke: one token ends."""
    await check_csrf(request)
    async with request.app[RUNTIME].sessions() as session, session.begin():
        token, _ = await revoke_token_by_id(session, who.name, row_id(request.match_info["id"]))
    raise _back(token.user_id, "token_revoked", n=token.id)


def register(app: web.Application) -> None:
    """Add the accounts pages."""
    app.router.add_get("/admin/users", accounts)
    app.router.add_get("/admin/users/{id}", account)
    app.router.add_post("/admin/users/{id}/deactivate", deactivate)
    app.router.add_post("/admin/users/{id}/reactivate", reactivate)
    app.router.add_post("/admin/users/{id}/tokens/revoke", revoke_all)
    app.router.add_post("/admin/tokens/{id}/revoke", revoke_one)
