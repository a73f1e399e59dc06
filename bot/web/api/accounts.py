"""Log in, who am I, users and tokens (admin), and the audit log (admin)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.passwords import PasswordChecksBusy
from bot.responses import error
from bot.runtime import RUNTIME
from bot.web.api.core import (
    ALL_ROLES,
    Param,
    endpoint,
    int_param,
    json_body,
    page,
    page_args,
    principal,
)
from bot.web.logins import LoginRefused, password_login, refusal_response
from storage.accounts import (
    ROLES,
    AccountRefused,
    UsernameTaken,
    audit,
    audit_entries,
    create_user,
    issue_token,
)
from storage.community import worker_by_name
from storage.home_care import provider_id_by_name


def api_token_lifetime(request: web.Request) -> timedelta:
    """How long a token printed for a user lasts (auth.api_token_days)."""
    return timedelta(days=request.app[RUNTIME].settings.file.auth.api_token_days)


@endpoint(
    "POST",
    "/api/login",
    "Exchange a username and password for a session token (auth.session_hours)",
    roles=ALL_ROLES,
    public=True,
    body={"username": "string", "password": "string"},
    item={"token": "string", "role": "string", "expires_at": "string"},
    errors=(429, 503),
)
async def login(request: web.Request) -> web.Response:
    """POST /api/login; failures make further tries wait, growing (bot/throttle.py)."""
    data = await json_body(request, ["username", "password"])
    username = data["username"].strip()[:64]
    try:
        opened = await password_login(request, username, data["password"], "login")
    except LoginRefused as refused:
        return refusal_response(refused)
    body = {"token": opened.token, "role": opened.role, "expires_at": opened.expires_at.isoformat()}
    return web.json_response(body)


@endpoint(
    "GET",
    "/api/me",
    "The caller's identity and role",
    roles=ALL_ROLES,
    item={"name": "string", "role": "string", "grid_id": "integer?"},
)
async def me(request: web.Request) -> web.Response:
    """GET /api/me."""
    who = principal(request)
    return web.json_response({"name": who.name, "role": who.role, "grid_id": who.grid_id})


@endpoint(
    "POST",
    "/api/users",
    "Create a user (admin); the answer carries a token for it (auth.api_token_days)",
    roles=("admin",),
    body={
        "username": "string",
        "role": "string",
        "password": "string",
        "display_name": "string",
        "worker": "string",
        "provider": "string",
    },
    item={
        "id": "integer",
        "username": "string",
        "role": "string",
        "token": "string",
        "expires_at": "string",
    },
    errors=(409, 503),
)
async def add_user(request: web.Request) -> web.Response:
    """POST /api/users: a grid_worker names the worker they are (a worker with a grid)."""
    runtime, who = request.app[RUNTIME], principal(request)
    data = await json_body(request, ["username", "role", "password"])
    if data["role"] not in ROLES:
        return error(400, "bad_request", f"role must be one of {', '.join(ROLES)}")
    if len(data["password"]) < 10:
        return error(400, "bad_request", "the password needs at least 10 characters")
    try:
        password_hash = await runtime.passwords.hash(data["password"])
    except PasswordChecksBusy:
        return error(503, "busy", "too many password checks at once; try again")
    async with runtime.sessions() as session, session.begin():
        worker_id = None
        if data["role"] == "grid_worker":
            worker = await worker_by_name(session, str(data.get("worker") or ""))
            if worker is None or worker.grid_id is None:
                return error(
                    400, "bad_request", "a grid_worker needs `worker`: a worker who has a grid"
                )
            worker_id = worker.id
        provider_id = None
        if data["role"] == "provider":
            provider_id = await provider_id_by_name(session, str(data.get("provider") or ""))
            if provider_id is None:
                return error(400, "bad_request", "a provider needs `provider`: its organisation")
        try:
            user = await create_user(
                session,
                data["username"].strip()[:64],
                data["role"],
                display_name=str(data.get("display_name") or "") or None,
                password_hash=password_hash,
                worker_id=worker_id,
                provider_id=provider_id,
            )
        except UsernameTaken:
            return error(409, "conflict", "that username is taken")
        except AccountRefused as refused:
            return error(400, "bad_request", str(refused))
        expires = runtime.clock() + api_token_lifetime(request)
        token = await issue_token(session, user, "created", expires)
        audit(session, who.name, "create_user", f"user:{user.username}", user.role)
        body = {
            "id": user.id,
            "username": user.username,
            "role": user.role,
            "token": token,
            "expires_at": expires.isoformat(),
        }
    return web.json_response(body)


@endpoint(
    "GET",
    "/api/audit",
    "Who viewed personal details or changed what (admin)",
    roles=("admin",),
    paged=True,
    params=(Param("actor", "e.g. user:liufang"), Param("action", "e.g. view_personal")),
    item={
        "id": "integer",
        "actor": "string",
        "action": "string",
        "target": "string",
        "detail": "string?",
        "created_at": "string",
    },
)
async def audit_log(request: web.Request) -> web.Response:
    """GET /api/audit."""
    runtime = request.app[RUNTIME]
    cursor, limit = page_args(request)
    int_param(request, "cursor")
    async with runtime.sessions() as session:
        rows = await audit_entries(
            session,
            cursor,
            limit,
            actor=request.query.get("actor"),
            action=request.query.get("action"),
        )
    items: list[dict[str, Any]] = [
        {
            "id": r.id,
            "actor": r.actor,
            "action": r.action,
            "target": r.target,
            "detail": r.detail,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]
    return page(items, limit)
