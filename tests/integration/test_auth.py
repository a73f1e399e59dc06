"""Logins and tokens over HTTP: back-off per client behind a trusted proxy, bursts counted
before the hash is checked, argon2 off the event loop, tokens that expire and end.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from sqlalchemy import select, update

from bot.app import create_app
from bot.runtime import RUNTIME
from bot.web.proxies import forwarded_client
from storage.accounts import AuditEntry, User
from storage.base import utcnow
from tests.db_helpers import fetch
from tests.support import REPO, make_settings

TOKEN = "bootstrap-admin-token-for-auth-tests-0123"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "a-long-password-1"
PROXY = (ipaddress.ip_network("127.0.0.1/32"),)  # the test client connects from here
# Waits long enough that a slow machine cannot let one pass between two requests.
SLOW = {"auth": {"first_delay_seconds": 30}}


def client_at(address: str) -> dict[str, str]:
    """Headers of a request the trusted proxy forwards from this client address."""
    return {"X-Forwarded-For": address}


@pytest.fixture
async def make_api(tmp_path: Path, db_url, redis_url, receiver):
    """Factory of the web app with a bootstrap admin; trusted=True puts it behind a proxy."""
    clients: list[TestClient] = []

    async def make(
        *, trusted: bool = True, overrides: dict | None = None, redis: str = redis_url
    ) -> TestClient:
        settings = make_settings(tmp_path, db_url, redis, "http://127.0.0.1:9", None, overrides)
        update_ = {"admin_token": TOKEN, "trusted_proxies": PROXY if trusted else ()}
        app = create_app(settings.model_copy(update=update_), worker_role=False)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def add_user(api: TestClient, username: str, role: str = "staff") -> dict:
    body = {"username": username, "role": role, "password": PASSWORD}
    resp = await api.post("/api/users", json=body, headers=ADMIN)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def run_linli(env: dict[str, str], *args: str) -> tuple[str, str, int]:
    """Run the `linli` command; its output, errors and exit code."""
    linli = str(Path(sys.executable).parent / "linli")
    proc = await asyncio.create_subprocess_exec(
        linli,
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return out.decode(), err.decode(), proc.returncode or 0


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(api: TestClient, username: str, password: str, address: str | None = None):
    headers = client_at(address) if address else {}
    body = {"username": username, "password": password}
    return await api.post("/api/login", json=body, headers=headers)


# --- finding 5: the login rate limit ------------------------------------------------------


def test_the_client_is_the_first_hop_no_trusted_proxy_vouches_for():
    proxies = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32")]
    # the nearest proxy is the peer; every trusted hop is looked through, right to left
    assert forwarded_client("127.0.0.1", ["203.0.113.5, 10.1.2.3"], proxies) == "203.0.113.5"
    # what the client wrote itself (left of its own address) is never believed
    assert forwarded_client("127.0.0.1", ["1.1.1.1, 203.0.113.5"], proxies) == "203.0.113.5"
    assert forwarded_client("127.0.0.1", ["1.1.1.1", "203.0.113.5"], proxies) == "203.0.113.5"
    # an untrusted peer's header is ignored
    assert forwarded_client("198.51.100.7", ["203.0.113.5"], proxies) == "198.51.100.7"
    # garbage stops the walk at the proxy that passed it on
    assert forwarded_client("127.0.0.1", ["203.0.113.5, bogus"], proxies) == "127.0.0.1"
    assert forwarded_client("127.0.0.1", ["bogus, 10.0.0.9"], proxies) == "10.0.0.9"
    assert forwarded_client("127.0.0.1", [], proxies) == "127.0.0.1"
    assert forwarded_client("::ffff:127.0.0.1", ["2001:db8::1"], proxies) == "2001:db8::1"


async def test_behind_a_trusted_proxy_each_client_waits_not_everyone(make_api):
    api = await make_api(overrides=SLOW)
    await add_user(api, "liufang")
    await add_user(api, "wangjianguo")
    for _ in range(5):
        assert (await login(api, "liufang", "wrong", "203.0.113.5")).status == 401
    refused = await login(api, "liufang", PASSWORD, "203.0.113.5")
    assert refused.status == 429
    # the same proxy forwards other clients: they are not locked out with the guesser
    assert (await login(api, "wangjianguo", PASSWORD, "198.51.100.7")).status == 200
    assert (await login(api, "liufang", PASSWORD, "198.51.100.7")).status == 200
    assert 25 <= int(refused.headers["Retry-After"]) <= 30


async def test_an_untrusted_peer_cannot_pick_its_address_with_a_header(make_api):
    api = await make_api(trusted=False, overrides=SLOW)
    await add_user(api, "liufang")
    for n in range(5):
        assert (await login(api, "liufang", "wrong", f"203.0.113.{n}")).status == 401
    assert (await login(api, "liufang", PASSWORD, "198.51.100.7")).status == 429


async def test_a_parallel_burst_of_guesses_is_counted_before_the_hash(make_api):
    api = await make_api(trusted=False, overrides=SLOW)
    await add_user(api, "liufang")
    answers = await asyncio.gather(*(login(api, "liufang", f"guess-{n}") for n in range(40)))
    statuses = sorted(r.status for r in answers)
    assert statuses.count(401) == 5 and statuses.count(429) == 35, statuses


async def test_failures_make_the_next_try_wait_longer_instead_of_locking_out(make_api):
    api = await make_api(trusted=False, overrides={"auth": {"first_delay_seconds": 3}})
    await add_user(api, "liufang")
    for _ in range(5):
        assert (await login(api, "liufang", "wrong")).status == 401
    first = await login(api, "liufang", PASSWORD)
    assert first.status == 429
    await asyncio.sleep(3.2)
    assert (await login(api, "liufang", "wrong")).status == 401  # the sixth failure: 6 s
    assert 1 <= int(first.headers["Retry-After"]) <= 3
    second = await login(api, "liufang", PASSWORD)
    assert second.status == 429 and 4 <= int(second.headers["Retry-After"]) <= 6  # doubled
    await asyncio.sleep(6.2)
    assert (await login(api, "liufang", PASSWORD)).status == 200  # seconds, not 10 minutes


async def _slow_hash(api: TestClient, username: str) -> float:
    """Give a user a costly hash so a check is easy to see; return how long one check takes."""
    slow = await asyncio.to_thread(PasswordHasher(time_cost=30).hash, PASSWORD)
    started = time.monotonic()
    await asyncio.to_thread(PasswordHasher().verify, slow, PASSWORD)
    one_check = time.monotonic() - started
    async with api.app[RUNTIME].sessions() as session, session.begin():
        await session.execute(
            update(User).where(User.username == username).values(password_hash=slow)
        )
    return one_check


async def test_the_password_check_does_not_stall_the_event_loop(make_api):
    api = await make_api(trusted=False)
    await add_user(api, "liufang")
    one_check = await _slow_hash(api, "liufang")
    longest_gap = 0.0

    async def tick() -> None:
        nonlocal longest_gap
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            longest_gap, last = max(longest_gap, now - last), now

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    resp = await login(api, "liufang", PASSWORD)
    took = time.monotonic() - started
    ticker.cancel()
    assert resp.status == 200
    # the login did check the costly hash (about a second or more; a skipped check takes
    # milliseconds). Judged against this login's own time, not one_check measured earlier:
    # a loaded machine makes the two differ by half
    assert took > min(0.3, one_check / 2), (took, one_check)
    # on the loop, the gap would be the whole check; off it, the loop keeps ticking
    assert longest_gap < took / 2, (longest_gap, took)


async def test_password_checks_beyond_the_bound_are_turned_away(make_api):
    api = await make_api(
        overrides={"auth": {"password_checks_at_once": 1, "password_checks_waiting": 1}}
    )
    for name in ("a-user", "b-user", "c-user"):
        await add_user(api, name)
        await _slow_hash(api, name)
    names = ("a-user", "b-user", "c-user")
    answers = await asyncio.gather(
        *(login(api, name, PASSWORD, f"203.0.113.{n}") for n, name in enumerate(names))
    )
    statuses = sorted(r.status for r in answers)
    assert statuses == [200, 200, 503], statuses  # one checking, one waiting, one refused
    busy = next(r for r in answers if r.status == 503)
    assert busy.headers["Retry-After"] and (await busy.json())["error"]["code"] == "busy"


async def test_without_redis_tokens_still_work_and_logins_wait(make_api):
    api = await make_api(redis="redis://127.0.0.1:1")  # nothing listens there
    assert (await api.get("/api/me", headers=ADMIN)).status == 200  # uncounted, logged
    refused = await login(api, "anyone", PASSWORD)
    assert refused.status == 503 and refused.headers["Retry-After"] == "5"  # never unthrottled


# --- finding 6: tokens -------------------------------------------------------------------


async def test_wrong_bearer_tokens_make_that_address_wait(make_api):
    api = await make_api(overrides=SLOW)
    for n in range(20):
        resp = await api.get(
            "/api/me", headers={**bearer(f"guess-{n}"), **client_at("203.0.113.5")}
        )
        assert resp.status == 401
    refused = await api.get("/api/me", headers={**ADMIN, **client_at("203.0.113.5")})
    assert refused.status == 429  # even a good token
    assert 25 <= int(refused.headers["Retry-After"]) <= 30
    assert (await refused.json())["error"]["code"] == "too_many_attempts"
    assert (await api.get("/api/me", headers={**ADMIN, **client_at("198.51.100.7")})).status == 200


async def test_tokens_expire_after_their_lifetime(make_api):
    api = await make_api()
    created = await add_user(api, "liufang")  # an API token: 90 days by default
    session = await (await login(api, "liufang", PASSWORD)).json()  # a session: 12 hours
    runtime = api.app[RUNTIME]
    start = runtime.clock()
    assert (await api.get("/api/me", headers=bearer(created["token"]))).status == 200
    runtime.clock = lambda: start + timedelta(hours=12, minutes=1)
    assert (await api.get("/api/me", headers=bearer(session["token"]))).status == 401
    assert (await api.get("/api/me", headers=bearer(created["token"]))).status == 200
    runtime.clock = lambda: start + timedelta(days=90, minutes=1)
    assert (await api.get("/api/me", headers=bearer(created["token"]))).status == 401


async def test_token_lifetimes_are_configured(make_api):
    api = await make_api(overrides={"auth": {"api_token_days": 30, "session_hours": 2}})
    created = await add_user(api, "liufang")
    session = await (await login(api, "liufang", PASSWORD)).json()
    runtime = api.app[RUNTIME]
    start = runtime.clock()
    assert created["expires_at"].startswith(str((start + timedelta(days=30)).date()))
    runtime.clock = lambda: start + timedelta(hours=2, minutes=1)
    assert (await api.get("/api/me", headers=bearer(session["token"]))).status == 401
    runtime.clock = lambda: start + timedelta(days=30, minutes=1)
    assert (await api.get("/api/me", headers=bearer(created["token"]))).status == 401


async def test_a_token_from_linli_admin_expires_too(make_api, tmp_path, db_url):
    api = await make_api()
    await add_user(api, "liufang")
    env = {
        **os.environ,
        "LINLI_CONFIG": str(tmp_path / "config.yml"),  # the app's, written by make_settings
        "LINLI_DATABASE_URL": db_url,
        "LINLI_VAR_DIR": str(tmp_path / "var"),
    }
    env.pop("LINLI_ADMIN_TOKEN", None)
    out, err, code = await run_linli(env, "admin", "token", "liufang")
    assert code == 0, err
    token = out.strip()
    runtime = api.app[RUNTIME]
    start = runtime.clock()
    assert (await api.get("/api/me", headers=bearer(token))).status == 200
    runtime.clock = lambda: start + timedelta(days=91)
    assert (await api.get("/api/me", headers=bearer(token))).status == 401
    assert "the token expires" in err


async def test_admins_revoke_one_token_or_all_of_a_user(make_api, db_url):
    api = await make_api()
    created = await add_user(api, "liufang")
    session = await (await login(api, "liufang", PASSWORD)).json()
    listed = await (await api.get(f"/api/users/{created['id']}/tokens", headers=ADMIN)).json()
    assert sorted(t["label"] for t in listed["items"]) == ["created", "login"]
    assert all("token" not in t for t in listed["items"])  # ids and dates, never the value
    login_id = next(t["id"] for t in listed["items"] if t["label"] == "login")
    staff = bearer(created["token"])
    assert (await api.post(f"/api/tokens/{login_id}/revoke", headers=staff)).status == 403
    resp = await api.post(f"/api/tokens/{login_id}/revoke", headers=ADMIN)
    assert resp.status == 200 and (await resp.json())["username"] == "liufang"
    assert (await api.get("/api/me", headers=bearer(session["token"]))).status == 401
    assert (await api.get("/api/me", headers=staff)).status == 200
    assert (await api.post(f"/api/tokens/{login_id}/revoke", headers=ADMIN)).status == 404
    fresh = await api.post(
        f"/api/users/{created['id']}/tokens", json={"label": "整合"}, headers=ADMIN
    )
    assert fresh.status == 200
    resp = await api.post(f"/api/users/{created['id']}/tokens/revoke", headers=ADMIN)
    assert (await resp.json())["revoked"] == 2
    for token in (created["token"], (await fresh.json())["token"]):
        assert (await api.get("/api/me", headers=bearer(token))).status == 401
    actions = await fetch(db_url, select(AuditEntry.action).order_by(AuditEntry.id))
    assert {"revoke_token", "issue_token", "revoke_tokens"} <= set(actions)


async def test_a_deactivated_user_cannot_log_in_and_their_tokens_end(make_api, db_url):
    api = await make_api()
    created = await add_user(api, "liufang")
    admin = await add_user(api, "chief", role="admin")
    path = f"/api/users/{created['id']}"
    resp = await api.post(f"{path}/deactivate", headers=bearer(admin["token"]))
    assert resp.status == 200 and (await resp.json())["active"] is False
    assert (await api.get("/api/me", headers=bearer(created["token"]))).status == 401
    assert (await login(api, "liufang", PASSWORD)).status == 401
    users = await (await api.get("/api/users", headers=ADMIN)).json()
    assert {u["username"]: u["active"] for u in users["items"]} == {"liufang": False, "chief": True}
    self_off = await api.post(
        f"/api/users/{admin['id']}/deactivate", headers=bearer(admin["token"])
    )
    assert self_off.status == 409
    assert (await api.post(f"{path}/reactivate", headers=ADMIN)).status == 200
    assert (await api.get("/api/me", headers=bearer(created["token"]))).status == 401  # not revived
    assert (await login(api, "liufang", PASSWORD)).status == 200
    assert (await api.post("/api/users/99999/deactivate", headers=ADMIN)).status == 404
    [entry] = await fetch(db_url, select(AuditEntry).where(AuditEntry.action == "deactivate_user"))
    assert entry.actor == "user:chief" and entry.target == "user:liufang"


async def test_logout_ends_the_api_token(make_api):
    api = await make_api()
    await add_user(api, "liufang")
    token = (await (await login(api, "liufang", PASSWORD)).json())["token"]
    assert (await api.post("/api/logout", headers=bearer(token))).status == 200
    assert (await api.get("/api/me", headers=bearer(token))).status == 401
    assert (await api.post("/api/logout", headers=ADMIN)).status == 400  # the bootstrap token


# --- the console ---------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def console_login(api: TestClient, username: str) -> tuple[str, str]:
    """Log in through the console's form; the session cookie's value and a CSRF token."""
    form_page = await (await api.get("/admin/login")).text()
    form = {"username": username, "password": PASSWORD, "csrf": CSRF.search(form_page).group(1)}
    resp = await api.post("/admin/login", data=form, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    cookie = resp.cookies["linli_session"].value
    page = await api.get("/admin/tickets")
    match = CSRF.search(await page.text())
    assert match, "no CSRF token on the page"
    return cookie, match.group(1)


async def test_console_logout_ends_the_session_not_only_the_cookie(make_api, db_url):
    api = await make_api()
    await add_user(api, "liufang")
    cookie, csrf = await console_login(api, "liufang")
    resp = await api.post("/admin/logout", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/admin/login"
    api.session.cookie_jar.update_cookies({"linli_session": cookie}, api.make_url("/"))
    again = await api.get("/admin/tickets", allow_redirects=False)  # the stolen cookie
    assert again.status == 303 and again.headers["Location"] == "/admin/login"
    actions = await fetch(
        db_url, select(AuditEntry.action).where(AuditEntry.actor == "user:liufang")
    )
    assert actions == ["login", "logout"]


async def test_admins_deactivate_and_revoke_in_the_console(make_api, db_url):
    api = await make_api()
    staff = await add_user(api, "liufang")
    await add_user(api, "chief", role="admin")
    _, csrf = await console_login(api, "chief")
    board = await api.get("/admin/users")
    text = await board.text()
    assert board.status == 200 and 'data-user="liufang" data-active="yes"' in text
    resp = await api.post(f"/admin/users/{staff['id']}/deactivate", data={"csrf": csrf})
    assert resp.status == 200 and "已停用此账号" in await resp.text()
    assert (await api.get("/api/me", headers=bearer(staff["token"]))).status == 401
    assert (await login(api, "liufang", PASSWORD)).status == 401
    resp = await api.post(f"/admin/users/{staff['id']}/reactivate", data={"csrf": csrf})
    assert resp.status == 200 and "已重新启用此账号" in await resp.text()
    token = (await (await login(api, "liufang", PASSWORD)).json())["token"]
    detail = await (await api.get(f"/admin/users/{staff['id']}")).text()
    [token_id] = re.findall(r'data-token="(\d+)"', detail)
    resp = await api.post(f"/admin/tokens/{token_id}/revoke", data={"csrf": csrf})
    assert resp.status == 200 and f"已注销令牌 #{token_id}" in await resp.text()
    assert (await api.get("/api/me", headers=bearer(token))).status == 401
    forged = await api.post(f"/admin/users/{staff['id']}/deactivate", data={"csrf": "0" * 64})
    assert forged.status == 403
    actions = await fetch(db_url, select(AuditEntry.action).where(AuditEntry.actor == "user:chief"))
    assert actions == ["login", "deactivate_user", "reactivate_user", "revoke_token"]
    api.session.cookie_jar.clear()
    await console_login(api, "liufang")
    assert (await api.get("/admin/users")).status == 403  # admins only


async def test_tokens_issued_without_an_expiry_get_one_when_migrated(db_url):
    from alembic import command

    from storage.accounts import ApiToken
    from storage.db import create_engine
    from storage.migrate import alembic_config, upgrade

    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0011")
    now = utcnow()
    engine = create_engine(db_url)
    async with engine.begin() as conn:
        user = User.__table__.insert().values(
            username="old", display_name="old", role="staff", active=True, created_at=now
        )
        user_id = (await conn.execute(user)).inserted_primary_key[0]
        for digest, age in (("a" * 64, 200), ("b" * 64, 10)):
            created = now - timedelta(days=age)
            token = ApiToken.__table__.insert().values(
                user_id=user_id, digest=digest, label="cli", expires_at=None, created_at=created
            )
            await conn.execute(token)
    await engine.dispose()
    await asyncio.to_thread(upgrade, db_url)
    rows = {t.digest: t.expires_at for t in await fetch(db_url, select(ApiToken))}
    week = rows["a" * 64] - now  # issued 200 days ago: a week's grace from the upgrade
    assert timedelta(days=7) <= week < timedelta(days=7, minutes=5)
    left = rows["b" * 64] - now  # issued 10 days ago: 90 days from issue
    assert timedelta(days=80) - timedelta(minutes=5) < left <= timedelta(days=80)
