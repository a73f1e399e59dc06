"""One JSON error shape for the whole HTTP API, and the middleware that enforces it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from handlers.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from storage.db import unavailable as storage_unavailable

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, code: str, message: str) -> web.Response:
    """Return {"error": {"code", "message"}} with an HTTP status."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


DOMAIN_STATUS: tuple[tuple[type[DomainError], int, str], ...] = (
    (NotFound, 404, "not_found"),
    (NotAllowed, 403, "forbidden"),
    (Invalid, 400, "bad_request"),
    (Conflict, 409, "conflict"),
)


def domain_error(exc: DomainError) -> web.Response:
    """The HTTP answer to a domain error: 404, 403, 400 or 409 with its message (else 400)."""
    if isinstance(exc, Conflict):
        return error(409, exc.code, exc.message)
    for kind, status, code in DOMAIN_STATUS:
        if isinstance(exc, kind):
            return error(status, code, exc.message)
    return error(400, "bad_request", exc.message)


def ok(payload: dict[str, object] | None = None) -> web.Response:
    """Return {"ok": true, ...}."""
    return web.json_response({"ok": True, **(payload or {})})


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn domain errors, aiohttp's HTTP errors and unexpected exceptions into the error body."""
    try:
        return await handler(request)
    except DomainError as exc:
        return domain_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = exc.reason.lower().replace(" ", "_")
        return error(exc.status, code, exc.text or exc.reason)
    except Exception as exc:
        if storage_unavailable(exc):
            # Nothing was acknowledged: a platform delivers the message again later.
            log.warning("storage unavailable on %s %r: %r", request.method, request.path, exc)
            resp = error(503, "storage_unavailable", "the database is busy or down; try again")
            resp.headers["Retry-After"] = "2"
            return resp
        log.exception("unhandled error on %s %r", request.method, request.path)
        return error(500, "internal_error", "internal error; it has been logged")
