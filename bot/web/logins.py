"""Password logins for the API and the console: counted first, checked off the event loop.

A login is counted (bot/throttle.py) for the name from the client's address, for the
address and for the name before the password is checked, so parallel guesses cannot pass
the allowance; each failure past it makes the next try wait longer. The argon2 check runs
in the password threads (bot/passwords.py), never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from bot.passwords import PasswordChecksBusy
from bot.responses import error
from bot.runtime import RUNTIME
from bot.throttle import ThrottleUnavailable, TooManyAttempts, login_subjects
from bot.web.proxies import client_address
from storage.accounts import audit, issue_token, purge_expired_tokens, user_by_name


class LoginRefused(Exception):
    """Why a login did not give a session: HTTP status, error code, message, Retry-After."""

    def __init__(self, status: int, code: str, message: str, retry_after: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


@dataclass(frozen=True)
class Session:
    """A new session token and whose it is."""

    token: str
    username: str
    role: str
    expires_at: datetime


def session_lifetime(request: web.Request) -> timedelta:
    """How long a login session lasts (auth.session_hours)."""
    return timedelta(hours=request.app[RUNTIME].settings.file.auth.session_hours)


async def password_login(request: web.Request, username: str, password: str, label: str) -> Session:
    """Check a name and password and open a session; LoginRefused says why not."""
    runtime = request.app[RUNTIME]
    subjects = login_subjects(runtime.settings.file.auth, username, client_address(request))
    try:
        async with runtime.throttle.attempt(subjects) as attempt:
            async with runtime.sessions() as session:
                user = await user_by_name(session, username)
            stored = user.password_hash if user is not None and user.active else None
            if user is None or not await runtime.passwords.matches(stored, password):
                attempt.failed()
                raise LoginRefused(401, "unauthorized", "wrong username or password")
            now = runtime.clock()
            expires = now + session_lifetime(request)
            async with runtime.sessions() as session, session.begin():
                await purge_expired_tokens(session, now)
                token = await issue_token(session, user, label, expires)
                audit(session, f"user:{user.username}", "login", f"user:{user.username}", label)
            return Session(token, user.username, user.role, expires)
    except TooManyAttempts as wait:
        raise LoginRefused(
            429, "too_many_attempts", f"too many failed logins; {wait}", wait.retry_after
        ) from None
    except PasswordChecksBusy:
        raise LoginRefused(503, "busy", "too many logins at once; try again", "2") from None
    except ThrottleUnavailable:
        raise LoginRefused(
            503, "unavailable", "logins are paused; try again shortly", "5"
        ) from None


def refusal_response(refused: LoginRefused) -> web.Response:
    """The common error body for a refused login, with Retry-After when there is one."""
    response = error(refused.status, refused.code, refused.message)
    if refused.retry_after:
        response.headers["Retry-After"] = refused.retry_after
    return response
