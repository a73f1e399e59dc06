"""The admin API's plumbing: endpoints declared with metadata, auth by role, paging, OpenAPI.

`@endpoint(...)` only attaches metadata to a handler; `register(app, modules)` adds the
routes, wraps each in authentication (closed by default: every endpoint names the roles
that may call it) and serves `/api/openapi.json` built from the same metadata.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from aiohttp import web

from bot.responses import error
from bot.runtime import RUNTIME, SETTINGS
from bot.throttle import TooManyAttempts, bearer_subjects
from bot.web.api.openapi import openapi
from bot.web.api.spec import Endpoint, Param
from bot.web.proxies import client_address
from handlers.errors import Invalid
from storage.accounts import User, user_for_token
from storage.community import Worker

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_ATTR = "__linli_endpoint__"
MAX_PAGE = 200
MAX_ID = 2**31 - 1  # row ids are SQL INTEGER; PostgreSQL refuses larger numbers outright
DEFAULT_PAGE = 50
ALL_ROLES = ("admin", "staff", "grid_worker", "provider", "volunteer")


@dataclass(frozen=True)
class Principal:
    """Who is calling: their role and what it scopes them to."""

    name: str
    role: str
    user_id: int | None = None
    worker_id: int | None = None
    grid_id: int | None = None
    provider_id: int | None = None

    @property
    def sees_personal_details(self) -> bool:
        """Admins and staff may see residents' phone numbers (and it is audited)."""
        return self.role in ("admin", "staff")


PRINCIPAL = web.RequestKey("principal", Principal)


def endpoint(method: str, path: str, summary: str, **kw: Any) -> Callable[[Handler], Handler]:
    """Declare a handler as an API endpoint (metadata only)."""

    def mark(func: Handler) -> Handler:
        setattr(func, _ATTR, Endpoint(method, path, summary, **kw))
        return func

    return mark


def principal(request: web.Request) -> Principal:
    """The authenticated caller of this request."""
    return request[PRINCIPAL]


def bearer_token(request: web.Request) -> str | None:
    """The token of the Authorization: Bearer header, if there is one."""
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer "):
        return None
    return given[len("Bearer ") :].strip()


async def _authenticate(request: web.Request) -> Principal | None:
    """The caller of a bearer token; counted per client address (TooManyAttempts)."""
    token = bearer_token(request)
    if token is None:
        return None
    runtime = request.app[RUNTIME]
    subjects = bearer_subjects(runtime.settings.file.auth, client_address(request))
    async with runtime.throttle.attempt(subjects, fail_open=True) as attempt:
        who = await _principal_for(request, token)
        if who is None:
            attempt.failed()
        return who


async def _principal_for(request: web.Request, token: str) -> Principal | None:
    if len(token) > 512:
        return None
    bootstrap = request.app[SETTINGS].admin_token
    if bootstrap and hmac.compare_digest(token.encode(), bootstrap.encode()):
        return Principal(name="bootstrap-admin", role="admin")
    return await principal_of_token(request, token)


async def principal_of_token(request: web.Request, token: str) -> Principal | None:
    """The user of an API or session token, unless it expired, was revoked or they left."""
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session:
        user = await user_for_token(session, token, runtime.clock())
        if user is None:
            return None
        worker = await session.get(Worker, user.worker_id) if user.worker_id else None
    return principal_of(user, worker)


def too_many(wait: TooManyAttempts, what: str) -> web.Response:
    """429 with Retry-After: this client address is waiting out its back-off."""
    response = error(429, "too_many_attempts", f"too many failed {what} from here; {wait}")
    response.headers["Retry-After"] = wait.retry_after
    return response


def principal_of(user: User, worker: Worker | None) -> Principal:
    """The principal of a signed-in user (their worker, if any, scopes them to a grid)."""
    return Principal(
        name=f"user:{user.username}",
        role=user.role,
        user_id=user.id,
        worker_id=user.worker_id,
        grid_id=worker.grid_id if worker else None,
        provider_id=user.provider_id,
    )


def has_nul(value: Any) -> bool:
    """Whether a string anywhere in a (JSON) value holds NUL, which PostgreSQL cannot store."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    return False


def has_lone_surrogate(value: Any) -> bool:
    """Whether a string in a JSON value holds half a surrogate pair ("\\ud800"): not storable."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    return False


def _guard(spec: Endpoint, handler: Handler) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if has_nul([*request.query.values(), *request.match_info.values()]):
            return error(400, "bad_request", "parameters may not contain NUL characters")
        if not spec.public:
            try:
                who = await _authenticate(request)
            except TooManyAttempts as wait:
                return too_many(wait, "tokens")
            if who is None:
                response = error(401, "unauthorized", "a valid bearer token is required")
                response.headers["WWW-Authenticate"] = 'Bearer realm="linli"'
                return response
            if who.role not in spec.roles:
                return error(403, "forbidden", f"the {who.role} role may not use this")
            request[PRINCIPAL] = who
        return await handler(request)

    return guarded


def int_param(request: web.Request, name: str, default: int | None = None) -> int | None:
    """A whole-number query parameter, or 400 naming it."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:  # not "²" or "١"
        raise Invalid(name, f"{name} must be a positive whole number")
    return int(raw)


def path_id(request: web.Request, what: str) -> int | None:
    """The path's {id}: 400 unless a whole number; None when no row can have it (too large)."""
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise Invalid("id", f"the {what} id is a whole number")
    number = int(raw)
    return number if number <= MAX_ID else None


def choice_param(request: web.Request, name: str, allowed: Iterable[str]) -> str | None:
    """A query parameter limited to some values, or 400 naming them."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    options = tuple(allowed)
    if raw not in options:
        raise Invalid(name, f"{name} must be one of {', '.join(options)}")
    return raw


def page_args(request: web.Request) -> tuple[int | None, int]:
    """The cursor (items with a smaller id) and the page size."""
    limit = int_param(request, "limit", DEFAULT_PAGE) or DEFAULT_PAGE
    cursor = int_param(request, "cursor")  # above every possible id: the same as none
    return (cursor if cursor is not None and cursor <= MAX_ID else None), min(limit, MAX_PAGE)


def page(items: list[dict[str, Any]], limit: int) -> web.Response:
    """{"items": [...], "next": cursor or null}, newest first."""
    cursor = str(items[-1]["id"]) if len(items) == limit and items else None
    return web.json_response({"items": items, "next": cursor})


async def json_body(request: web.Request, required: Iterable[str]) -> dict[str, Any]:
    """A JSON object body with the required string fields, or 400 naming what is wrong."""
    try:
        data = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="the body must be JSON") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    if has_nul(data):
        raise web.HTTPBadRequest(text="text may not contain NUL characters")
    if has_lone_surrogate(data):
        raise web.HTTPBadRequest(text="text may not contain unpaired surrogates (\\ud800…)")
    missing = [k for k in required if not isinstance(data.get(k), str) or not data[k].strip()]
    if missing:
        raise web.HTTPBadRequest(text=f"missing or empty text fields: {', '.join(missing)}")
    return data


PAGING = (
    Param("cursor", "the `next` value of the previous page", "integer"),
    Param("limit", f"items per page (default {DEFAULT_PAGE}, at most {MAX_PAGE})", "integer"),
)


def register(app: web.Application, modules: Iterable[ModuleType]) -> list[Endpoint]:
    """Add every declared endpoint of the modules (guarded) and /api/openapi.json."""
    specs: list[Endpoint] = []
    for module in modules:
        for value in vars(module).values():
            spec = getattr(value, _ATTR, None)
            if isinstance(spec, Endpoint):
                app.router.add_route(spec.method, spec.path, _guard(spec, value))
                specs.append(spec)
    document = openapi(sorted(specs, key=lambda s: (s.path, s.method)), PAGING)

    async def serve_openapi(request: web.Request) -> web.Response:
        return web.json_response(document)

    app.router.add_get("/api/openapi.json", serve_openapi)
    return specs
