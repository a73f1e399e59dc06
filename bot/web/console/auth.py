"""Console sessions: a login form, an HttpOnly SameSite cookie, CSRF tokens on every form.

The login form has one too, before there is a session: GET /admin/login sets a random nonce
in its own HttpOnly, SameSite=Strict cookie and puts an HMAC of it in the form; the POST must
bring both. A page elsewhere cannot log a browser in (to an account of the attacker's).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.runtime import RUNTIME, SETTINGS
from bot.throttle import TooManyAttempts, bearer_subjects
from bot.web.api.core import Principal, principal_of_token, too_many
from bot.web.logins import password_login, session_lifetime
from bot.web.proxies import client_address
from storage.accounts import audit, revoke_token_value, user_by_id

COOKIE = "linli_session"
LOGIN_COOKIE = "linli_login"
LOGIN_PATH = "/admin/login"
Page = Callable[[web.Request, Principal], Awaitable[web.StreamResponse]]


@lru_cache(maxsize=1)
def _fallback_key() -> bytes:
    """A per-process key, only when LINLI_SECRET_KEY is unset (fine for one web process)."""
    return secrets.token_bytes(32)


def _key(request: web.Request) -> bytes:
    secret = request.app[SETTINGS].secret_key
    return secret.encode() if secret else _fallback_key()


def _mac(request: web.Request, purpose: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()
    return hmac.new(_key(request), f"{purpose}:{digest}".encode(), hashlib.sha256).hexdigest()


def csrf_token(request: web.Request) -> str:
    """The CSRF token of this session: forms carry it, POSTs must return it."""
    return _mac(request, "csrf", request.cookies.get(COOKIE, ""))


def login_nonce(request: web.Request) -> str:
    """The login form's nonce: the browser's, or a new one."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    return nonce if 32 <= len(nonce) <= 64 else secrets.token_urlsafe(32)


def login_token(request: web.Request, nonce: str) -> str:
    """The CSRF token the login form carries for a nonce."""
    return _mac(request, "login", nonce)


def set_login_nonce(response: web.StreamResponse, request: web.Request, nonce: str) -> None:
    """Keep the login form's nonce in the browser (HttpOnly, SameSite=Strict, login path)."""
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=int(session_lifetime(request).total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=_https(request),
        path=LOGIN_PATH,
    )


def end_login_form(response: web.StreamResponse) -> None:
    """Drop the login form's nonce once it has served."""
    response.del_cookie(LOGIN_COOKIE, path=LOGIN_PATH)


def check_login_csrf(request: web.Request, form: MultiDictProxy[Any]) -> bool:
    """True when a POSTed login form carries the token of this browser's login nonce."""
    nonce, given = request.cookies.get(LOGIN_COOKIE, ""), str(form.get("csrf", ""))
    if not (32 <= len(nonce) <= 64) or not given:
        return False
    return hmac.compare_digest(given, login_token(request, nonce))


def _https(request: web.Request) -> bool:
    return request.secure or request.headers.get("X-Forwarded-Proto") == "https"


async def check_csrf(request: web.Request) -> MultiDictProxy[Any]:
    """Read a POSTed form and refuse it (403) unless it carries this session's CSRF token."""
    form = await request.post()
    given = str(form.get("csrf", ""))
    if not given or not hmac.compare_digest(given, csrf_token(request)):
        raise web.HTTPForbidden(text="the form expired or came from elsewhere; reload the page")
    return form


async def current(request: web.Request) -> Principal | None:
    """The signed-in user of this request, from the session cookie (counted like tokens)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    runtime = request.app[RUNTIME]
    subjects = bearer_subjects(runtime.settings.file.auth, client_address(request))
    async with runtime.throttle.attempt(subjects, fail_open=True) as attempt:
        who = await principal_of_token(request, token) if len(token) <= 128 else None
        if who is None:
            attempt.failed()
        return who


def page(*roles: str) -> Callable[[Page], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """A console page for some roles: others are sent to the login form or refused."""

    def wrap(view: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                who = await current(request)
            except TooManyAttempts as wait:
                return too_many(wait, "sessions")
            if who is None:
                raise web.HTTPSeeOther("/admin/login")
            if who.role not in roles:
                raise web.HTTPForbidden(text="您的角色不能查看此页面")
            return await view(request, who)

        return guarded

    return wrap


async def log_in(request: web.Request, username: str, password: str) -> str:
    """Check a username and password (throttled like the API); the new session token.

    LoginRefused says why not (wrong, waiting out the back-off, busy).
    """
    return (await password_login(request, username, password, "console")).token


async def log_out(request: web.Request) -> None:
    """End this request's session: its token is deleted, not only the cookie."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 128:
        return
    async with request.app[RUNTIME].sessions() as session, session.begin():
        ended = await revoke_token_value(session, token)
        user = await user_by_id(session, ended.user_id) if ended is not None else None
        if user is not None:
            audit(session, f"user:{user.username}", "logout", f"user:{user.username}", "console")


def set_session(response: web.StreamResponse, request: web.Request, token: str) -> None:
    """Set the session cookie: HttpOnly, SameSite=Strict, Secure behind https."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(session_lifetime(request).total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=_https(request),
        path="/",
    )
