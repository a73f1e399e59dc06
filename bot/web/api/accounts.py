"""Log in, who am I, users and tokens (admin), and the audit log (admin)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

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
from bot.web.login_limits import count_failed_login, login_blocked
from storage.accounts import (
    ROLES,
    AccountRefused,
    AuditEntry,
    audit,
    create_user,
    issue_token,
    password_matches,
    user_by_name,
)
from storage.community import Worker
from storage.home_care import CareProvider

SESSION = timedelta(hours=12)


@endpoint(
    "POST",
    "/api/login",
    "Exchange a username and password for a 12-hour token",
    roles=ALL_ROLES,
    public=True,
    body={"username": "string", "password": "string"},
    item={"token": "string", "role": "string", "expires_at": "string"},
    errors=(429,),
)
async def login(request: web.Request) -> web.Response:
    """POST /api/login; 5 failed attempts in 10 minutes lock the name and the address out."""
    runtime = request.app[RUNTIME]
    data = await json_body(request, ["username", "password"])
    username = data["username"].strip()[:64]
    if await login_blocked(request, username):
        return error(429, "too_many_attempts", "too many failed logins; try again in 10 minutes")
    async with runtime.sessions() as session, session.begin():
        user = await user_by_name(session, username)
        if (
            user is None
            or not user.active
            or not password_matches(user.password_hash, data["password"])
        ):
            await count_failed_login(request, username)
            return error(401, "unauthorized", "wrong username or password")
        expires = runtime.clock() + SESSION
        token = await issue_token(session, user, "login", expires)
        audit(session, f"user:{username}", "login", f"user:{username}")
    return web.json_response({"token": token, "role": user.role, "expires_at": expires.isoformat()})


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
    "Create a user (admin)",
    roles=("admin",),
    body={
        "username": "string",
        "role": "string",
        "password": "string",
        "display_name": "string",
        "worker": "string",
        "provider": "string",
    },
    item={"id": "integer", "username": "string", "role": "string", "token": "string"},
    errors=(409,),
)
async def add_user(request: web.Request) -> web.Response:
    """POST /api/users: a grid_worker names the worker they are (a worker with a grid)."""
    runtime, who = request.app[RUNTIME], principal(request)
    data = await json_body(request, ["username", "role", "password"])
    if data["role"] not in ROLES:
        return error(400, "bad_request", f"role must be one of {', '.join(ROLES)}")
    if len(data["password"]) < 10:
        return error(400, "bad_request", "the password needs at least 10 characters")
    async with runtime.sessions() as session, session.begin():
        worker_id = None
        if data["role"] == "grid_worker":
            name = str(data.get("worker") or "")
            worker = (await session.scalars(select(Worker).where(Worker.name == name))).first()
            if worker is None or worker.grid_id is None:
                return error(
                    400, "bad_request", "a grid_worker needs `worker`: a worker who has a grid"
                )
            worker_id = worker.id
        provider_id = None
        if data["role"] == "provider":
            name = str(data.get("provider") or "")
            stmt = select(CareProvider.id).where(CareProvider.name == name)
            provider_id = (await session.scalars(stmt)).first()
            if provider_id is None:
                return error(400, "bad_request", "a provider needs `provider`: its organisation")
        try:
            async with session.begin_nested():
                user = await create_user(
                    session,
                    data["username"].strip()[:64],
                    data["role"],
                    display_name=str(data.get("display_name") or "") or None,
                    password=data["password"],
                    worker_id=worker_id,
                    provider_id=provider_id,
                )
        except IntegrityError:
            return error(409, "conflict", "that username is taken")
        except AccountRefused as refused:
            return error(400, "bad_request", str(refused))
        token = await issue_token(session, user, "created")
        audit(session, who.name, "create_user", f"user:{user.username}", user.role)
        body = {"id": user.id, "username": user.username, "role": user.role, "token": token}
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
    stmt = select(AuditEntry)
    if cursor is not None:
        stmt = stmt.where(AuditEntry.id < cursor)
    for name in ("actor", "action"):
        if value := request.query.get(name):
            stmt = stmt.where(getattr(AuditEntry, name) == value)
    async with runtime.sessions() as session:
        rows = (await session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit))).all()
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
