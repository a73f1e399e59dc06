"""Limits that keep slow or oversized clients from holding the server: timeouts and sizes.

aiohttp closes a connection that has not sent a whole request line and headers within its
keep-alive timeout (counted from the connection's start), so `idle_timeout_seconds` bounds a
slow-loris client; a body is read here, before any handler, within `body_timeout_seconds`
and never past `max_body_bytes` (a declared Content-Length over the limit is refused unread).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot.config import Http
from bot.responses import Handler, error

log = logging.getLogger(__name__)


def runner_limits(http: Http) -> dict[str, Any]:
    """Keyword arguments for web.AppRunner: header sizes, idle and linger timeouts."""
    return {
        "keepalive_timeout": http.idle_timeout_seconds,
        "lingering_time": http.linger_seconds,
        "max_line_size": http.max_header_line_bytes,
        "max_field_size": http.max_header_field_bytes,
    }


def _refuse(status: int, code: str, message: str) -> web.Response:
    response = error(status, code, message)
    response.force_close()  # the rest of the body is not wanted; no keep-alive
    return response


def body_limits(http: Http) -> Any:
    """Middleware: read the whole body within the deadline and the size limit, or refuse."""

    @web.middleware
    async def read_body_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            declared = request.content_length
            if declared is not None and declared > http.max_body_bytes:
                return _refuse(
                    413,
                    "request_entity_too_large",
                    f"the body may be at most {http.max_body_bytes} bytes",
                )
            try:
                async with asyncio.timeout(http.body_timeout_seconds):
                    if request.content_type == "multipart/form-data":
                        await request.post()  # parsed once, kept for the handler's post()
                    else:
                        await request.read()  # kept: the handler's read()/json() is free
            except ValueError:
                return _refuse(400, "bad_request", "the multipart form could not be read")
            except TimeoutError:
                log.info("body of %s %r not received in time", request.method, request.path)
                return _refuse(408, "request_timeout", "the body did not arrive in time")
            except web.HTTPRequestEntityTooLarge:
                return _refuse(
                    413,
                    "request_entity_too_large",
                    f"the body may be at most {http.max_body_bytes} bytes",
                )
        return await handler(request)

    return read_body_in_time
