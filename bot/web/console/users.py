"""Accounts in the console (admins): users with their tokens, deactivate, revoke.

The same operations as the API's (bot/web/api/tokens.py), each audited; a token is listed by
its label and dates, never its value.
"""

from __future__ import annotations

from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bot.runtime import RUNTIME
from bot.web.api.core import Principal
from bot.web.api.tokens import revoke_token_by_id, revoke_user_tokens, set_user_active
from bot.web.console.auth import check_csrf, page
from bot.web.console.views import base_context
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


def _back(user_id: int | None, message: str) -> web.HTTPSeeOther:
    where = f"/admin/users/{user_id}" if user_id else "/admin/users"
    return web.HTTPSeeOther(f"{where}?" + urlencode({"m": message}))


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
        user = await set_user_active(request.app[RUNTIME], who, user_id, False)
    except web.HTTPConflict:
        raise _back(user_id, "不能停用自己的账号") from None
    raise _back(user_id, f"已停用 {user.username}，其令牌已全部注销")


@page("admin")
async def reactivate(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/users/{id}/reactivate: may log in again (no old token comes back)."""
    await check_csrf(request)
    user_id = row_id(request.match_info["id"])
    user = await set_user_active(request.app[RUNTIME], who, user_id, True)
    raise _back(user_id, f"已启用 {user.username}，需重新登录")


@page("admin")
async def revoke_all(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/users/{id}/tokens/revoke: every session and API token of the user ends."""
    await check_csrf(request)
    user_id = row_id(request.match_info["id"])
    user, revoked = await revoke_user_tokens(request.app[RUNTIME], who, user_id)
    raise _back(user_id, f"已注销 {user.username} 的 {revoked} 个令牌")


@page("admin")
async def revoke_one(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/tokens/{id}/revoke: one token ends."""
    await check_csrf(request)
    token, username = await revoke_token_by_id(
        request.app[RUNTIME], who, row_id(request.match_info["id"])
    )
    raise _back(token.user_id, f"已注销 {username} 的令牌（{token.label}）")


def register(app: web.Application) -> None:
    """Add the accounts pages."""
    app.router.add_get("/admin/users", accounts)
    app.router.add_get("/admin/users/{id}", account)
    app.router.add_post("/admin/users/{id}/deactivate", deactivate)
    app.router.add_post("/admin/users/{id}/reactivate", reactivate)
    app.router.add_post("/admin/users/{id}/tokens/revoke", revoke_all)
    app.router.add_post("/admin/tokens/{id}/revoke", revoke_one)
