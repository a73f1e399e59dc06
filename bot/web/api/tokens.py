"""Users and their tokens over the API: list, issue, revoke, deactivate (admin); log out.

Revoking deletes tokens, so they stop at once in every process; deactivating a user
deletes theirs too, and reactivating revives none (they log in again or get a new token).
Every change is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.responses import error
from bot.runtime import RUNTIME
from bot.web.api.accounts import api_token_lifetime
from bot.web.api.core import (
    ALL_ROLES,
    bearer_token,
    endpoint,
    json_body,
    page,
    page_args,
    path_id,
    principal,
)
from handlers.accounts import (
    existing_user,
    revoke_token_by_id,
    revoke_user_tokens,
    set_user_active,
)
from storage.accounts import (
    ApiToken,
    User,
    audit,
    issue_token,
    list_users,
    live_token_counts,
    live_tokens_of,
    revoke_token_value,
)

ADMIN = ("admin",)
USER_ITEM = {
    "id": "integer",
    "username": "string",
    "display_name": "string",
    "role": "string",
    "active": "boolean",
    "live_tokens": "integer",
    "created_at": "string",
}
TOKEN_ITEM = {"id": "integer", "label": "string", "created_at": "string", "expires_at": "string"}


def _user_item(user: User, live_tokens: int) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "active": user.active,
        "live_tokens": live_tokens,
        "created_at": user.created_at.isoformat(),
    }


def _token_item(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "label": token.label,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat(),
    }


@endpoint(
    "GET",
    "/api/users",
    "Users, newest first, with their unexpired tokens counted (admin)",
    roles=ADMIN,
    paged=True,
    item=USER_ITEM,
)
async def users(request: web.Request) -> web.Response:
    """GET /api/users."""
    runtime = request.app[RUNTIME]
    cursor, limit = page_args(request)
    async with runtime.sessions() as session:
        rows = await list_users(session, cursor, limit)
        counts = await live_token_counts(session, [u.id for u in rows], runtime.clock())
    return page([_user_item(u, counts.get(u.id, 0)) for u in rows], limit)


@endpoint(
    "GET",
    "/api/users/{id}/tokens",
    "A user's unexpired tokens, newest first (admin)",
    roles=ADMIN,
    paged=True,
    item=TOKEN_ITEM,
)
async def tokens(request: web.Request) -> web.Response:
    """GET /api/users/{id}/tokens (ids, labels and expiry; never the tokens themselves)."""
    runtime = request.app[RUNTIME]
    cursor, limit = page_args(request)
    async with runtime.sessions() as session:
        user = await existing_user(session, path_id(request, "user"))
        rows = await live_tokens_of(session, user.id, runtime.clock(), cursor, limit)
    return page([_token_item(t) for t in rows], limit)


@endpoint(
    "POST",
    "/api/users/{id}/tokens",
    "Print a new token for a user (admin; auth.api_token_days)",
    roles=ADMIN,
    body={"label": "string"},
    errors=(409,),
    item={"token": "string", "expires_at": "string", "username": "string"},
)
async def new_token(request: web.Request) -> web.Response:
    """POST /api/users/{id}/tokens: {"label": "…"} optional; the token is shown once."""
    runtime, who = request.app[RUNTIME], principal(request)
    data = await json_body(request, [])
    label = str(data.get("label") or "api").strip()[:64] or "api"
    async with runtime.sessions() as session, session.begin():
        user = await existing_user(session, path_id(request, "user"))
        if not user.active:
            return error(409, "conflict", "the user is deactivated; reactivate them first")
        expires = runtime.clock() + api_token_lifetime(request)
        token = await issue_token(session, user, label, expires)
        audit(session, who.name, "issue_token", f"user:{user.username}", label)
    body = {"token": token, "expires_at": expires.isoformat(), "username": user.username}
    return web.json_response(body)


@endpoint(
    "POST",
    "/api/users/{id}/tokens/revoke",
    "Revoke every token of a user (admin)",
    roles=ADMIN,
    item={"username": "string", "revoked": "integer"},
)
async def revoke_all(request: web.Request) -> web.Response:
    """POST /api/users/{id}/tokens/revoke: their sessions and API tokens stop at once."""
    async with request.app[RUNTIME].sessions() as session, session.begin():
        user, revoked = await revoke_user_tokens(
            session, principal(request).name, path_id(request, "user")
        )
    return web.json_response({"username": user.username, "revoked": revoked})


@endpoint(
    "POST",
    "/api/tokens/{id}/revoke",
    "Revoke one token by its id (admin)",
    roles=ADMIN,
    item={"id": "integer", "username": "string", "label": "string"},
)
async def revoke_one(request: web.Request) -> web.Response:
    """POST /api/tokens/{id}/revoke (the ids are in GET /api/users/{id}/tokens)."""
    async with request.app[RUNTIME].sessions() as session, session.begin():
        token, username = await revoke_token_by_id(
            session, principal(request).name, path_id(request, "token")
        )
    return web.json_response({"id": token.id, "username": username, "label": token.label})


@endpoint(
    "POST",
    "/api/users/{id}/deactivate",
    "Deactivate a user (admin): their tokens are revoked and they cannot log in",
    roles=ADMIN,
    item=USER_ITEM,
    errors=(409,),
)
async def deactivate(request: web.Request) -> web.Response:
    """POST /api/users/{id}/deactivate."""
    who = principal(request)
    async with request.app[RUNTIME].sessions() as session, session.begin():
        user = await set_user_active(
            session, who.name, who.user_id, path_id(request, "user"), False
        )
    return web.json_response(_user_item(user, 0))  # every token revoked


@endpoint(
    "POST",
    "/api/users/{id}/reactivate",
    "Let a deactivated user log in again (admin)",
    roles=ADMIN,
    item=USER_ITEM,
)
async def reactivate(request: web.Request) -> web.Response:
    """POST /api/users/{id}/reactivate (no old token comes back)."""
    who = principal(request)
    async with request.app[RUNTIME].sessions() as session, session.begin():
        user = await set_user_active(session, who.name, who.user_id, path_id(request, "user"), True)
    return web.json_response(_user_item(user, 0))  # no token revived


@endpoint(
    "POST",
    "/api/logout",
    "End the token this request carries",
    roles=ALL_ROLES,
    item={"ok": "boolean"},
)
async def logout(request: web.Request) -> web.Response:
    """POST /api/logout: the caller's token is deleted (the bootstrap token cannot be)."""
    runtime, who = request.app[RUNTIME], principal(request)
    if who.user_id is None:
        return error(400, "bad_request", "the bootstrap token ends when LINLI_ADMIN_TOKEN is unset")
    async with runtime.sessions() as session, session.begin():
        await revoke_token_value(session, bearer_token(request) or "")
        audit(session, who.name, "logout", who.name, "api")
    return web.json_response({"ok": True})
