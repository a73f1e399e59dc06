"""The web console in a real headless Chromium: log in, search, dispatch, colours, CSV."""

from __future__ import annotations

import os
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.runtime import RUNTIME
from storage.accounts import AuditEntry
from storage.base import utcnow
from storage.messages import store_inbound
from storage.residents import Resident, get_or_create_conversation
from storage.ticket_flow import open_ticket
from tests.db_helpers import fetch
from tests.support import console_login, make_settings

TOKEN = "console-bootstrap-token-for-tests-0123"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture
async def console(tmp_path: Path, db_url, redis_url, receiver):
    """The app with a staff user 刘芳 (password known) and one street-light ticket."""
    settings = make_settings(tmp_path, db_url, redis_url, "http://127.0.0.1:9", receiver[1])
    client = TestClient(TestServer(create_app(settings.model_copy(update={"admin_token": TOKEN}))))
    await client.start_server()
    body = {"username": "liufang", "role": "staff", "password": "console-password-1"}
    assert (await client.post("/api/users", json=body, headers=ADMIN)).status == 200
    runtime = client.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        conv = await get_or_create_conversation(session, "generic", "c-res", "c-res")
        text = "东关中巷路灯坏了<script>alert('x')</script>"
        await store_inbound(
            session, conversation_id=conv.id, platform="generic", platform_msg_id="c1", text=text
        )
        resident = await session.get(Resident, conv.resident_id)
        await open_ticket(
            session, runtime.services, category="streetlight", description=text,
            reporter=resident, now=utcnow(), actor="test", location="东关中巷",
        )  # fmt: skip
    yield client
    await client.close()


async def test_forms_refuse_a_missing_csrf_token_and_pages_need_a_login(console):
    resp = await console.get("/admin/tickets", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/admin/login"
    resp = await console_login(console, "liufang", "console-password-1", allow_redirects=False)
    assert resp.status == 303
    cookie = resp.cookies["linli_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    resp = await console.post("/admin/tickets/1001/dispatch", data={"worker": "王建国"})
    assert resp.status == 403  # no CSRF token
    bad = await console_login(console, "liufang", "no")
    assert bad.status == 401 and "用户名或密码不对" in await bad.text()


async def test_the_login_form_refuses_a_post_without_its_own_token(console, db_url):
    """A page elsewhere cannot log this browser in (login CSRF): the form's token is needed."""
    form = {"username": "liufang", "password": "console-password-1"}
    forged = await console.post("/admin/login", data=form, allow_redirects=False)
    assert forged.status == 403 and "linli_session" not in forged.cookies
    assert "登录页面已过期" in await forged.text()
    other_browser = await console_form_token(console)  # a token made for another nonce
    console.session.cookie_jar.clear()
    await console.get("/admin/login")
    crossed = await console.post(
        "/admin/login", data={**form, "csrf": other_browser}, allow_redirects=False
    )
    assert crossed.status == 403 and "linli_session" not in crossed.cookies
    assert await fetch(db_url, select(AuditEntry.action).where(AuditEntry.action == "login")) == []
    resp = await console_login(console, "liufang", "console-password-1", allow_redirects=False)
    assert resp.status == 303 and resp.cookies["linli_session"].value
    assert resp.cookies["linli_login"].value == ""  # the form's nonce is used up


async def console_form_token(client: TestClient) -> str:
    """The CSRF token of a freshly opened login form."""
    found = re.search(
        r'name="csrf" value="([^"]+)"', await (await client.get("/admin/login")).text()
    )
    assert found is not None
    return found.group(1)


SPOOF = "系统升级，请到 http://linli-login.example 重新登录"


async def test_a_link_cannot_put_its_own_words_on_a_console_page(console):
    await console_login(console, "liufang", "console-password-1")
    for path in ("/admin/tickets", "/admin/tickets/1001", "/admin/handoff", "/admin/stats"):
        for query in ({"m": SPOOF}, {"m": "dispatched", "n": SPOOF}, {"m": "已添加备注"}):
            page = await (await console.get(path, params=query)).text()
            assert 'id="message"' not in page and "linli-login" not in page, (path, query)
    shown = await (await console.get("/admin/tickets/1001", params={"m": "comment_added"})).text()
    assert '<p class="msg" id="message">已添加备注</p>' in shown
    page = await (await console.get("/admin/tickets/1001")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    form = {"csrf": csrf.group(1), "worker": "王建国"}
    done = await console.post("/admin/tickets/1001/dispatch", data=form)
    text = await done.text()
    assert "工单 1001 已派单" in text and "承办人：王建国" in text
    bad_filter = await (await console.get("/admin/tickets", params={"status": SPOOF})).text()
    assert "status must be one of" in bad_filter and "linli-login" not in bad_filter


SHOTS = Path(__file__).resolve().parents[2] / "var" / "console-screenshots"


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="Chromium is not installed (scripts/test.sh installs it with apt as root)",
)
async def test_staff_work_the_console_in_a_browser(console, tmp_path, receiver, db_kind):
    rec, _ = receiver
    from playwright.async_api import async_playwright

    base = str(console.make_url("")).rstrip("/")
    SHOTS.mkdir(parents=True, exist_ok=True)

    async def shot(page: Any, name: str) -> None:
        """Keep what the browser showed: var/console-screenshots/<database>-<step>.png."""
        await page.screenshot(path=str(SHOTS / f"{db_kind}-{name}.png"), full_page=True)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(accept_downloads=True)
        await page.goto(f"{base}/admin/login")
        await page.fill("input[name=username]", "liufang")
        await page.fill("input[name=password]", "console-password-1")
        await page.click("#login")
        await page.wait_for_url(f"{base}/admin/tickets")
        row = page.locator("tr[data-number='1001']")
        assert await row.get_attribute("data-colour") == "green"
        await shot(page, "1-board-green")

        await page.goto(f"{base}/admin/conversations")
        await page.fill("#q", "路灯")
        await page.click("#search")
        cell = page.locator("#results td.text").first
        assert "东关中巷路灯坏了<script>" in await cell.inner_text()  # shown as text, not run
        await shot(page, "2-search")

        await page.goto(f"{base}/admin/tickets/1001")
        await page.select_option("#worker", "王建国")
        await page.click("#dispatch")
        assert "工单 1001 已派单" in await page.locator("#message").inner_text()
        assert "承办人：王建国" in await page.locator("main").inner_text()
        await shot(page, "3-dispatched")

        start = utcnow()
        console.app[RUNTIME].clock = lambda: start + timedelta(minutes=241)  # past accept time
        await page.goto(f"{base}/admin/tickets")
        assert await row.get_attribute("data-colour") == "red"
        await shot(page, "4-board-red")
        phone = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        await phone.context.add_cookies(await page.context.cookies())
        await phone.goto(f"{base}/admin/tickets")
        assert await phone.locator("tr[data-number='1001']").get_attribute("data-colour") == "red"
        await shot(phone, "5-board-phone")
        await phone.close()

        await page.goto(f"{base}/admin/stats")
        assert await page.locator("svg.chart rect").count() >= 3  # category, week, grid bars
        await shot(page, "6-stats")
        async with page.expect_download() as info:
            await page.click("#csv")
        download = await info.value
        path = tmp_path / "stats.csv"
        await download.save_as(path)
        assert path.read_text(encoding="utf-8-sig").startswith("group,name,tickets")

        async with console.app[RUNTIME].sessions() as session, session.begin():
            conv = await get_or_create_conversation(session, "generic", "c-res", "c-res")
            conv.handed_off = True
        await page.goto(f"{base}/admin/handoff")
        await page.fill("tr[data-conversation] textarea", "您好，我是社区刘芳，马上联系网格员。")
        await page.click("tr[data-conversation] button >> text=发送")
        assert "已发送给居民" in await page.locator("#message").inner_text()
        await shot(page, "7-handoff")
        assert "社区刘芳" in (await rec.wait_for("c-res", 1))[0]
        await page.click("text=交还机器人")
        assert "已交还机器人" in await page.locator("#message").inner_text()
        await browser.close()


async def test_boards_for_bookings_orders_and_wishes_follow_the_role(console):
    await console_login(console, "liufang", "console-password-1")
    for path, title in (("/admin/bookings", "康复预约"), ("/admin/orders", "居家养老服务订单"),
                        ("/admin/wishes", "微心愿")):  # fmt: skip
        page = await console.get(path)
        assert page.status == 200 and title in await page.text(), path
    assert (await console.get("/admin/orders?status=bogus")).status == 400
    body = {"username": "vol-1", "role": "volunteer", "password": "volunteer-pass-1"}
    assert (await console.post("/api/users", json=body, headers=ADMIN)).status == 200
    console.session.cookie_jar.clear()
    await console_login(console, "vol-1", "volunteer-pass-1")
    wishes = await console.get("/admin/wishes")
    assert wishes.status == 200 and "/admin/tickets" not in await wishes.text()  # menu by role
    assert (await console.get("/admin/orders")).status == 403
    assert (await console.get("/admin/tickets")).status == 403


async def test_a_console_ticket_view_is_audited(console, db_url):
    await console_login(console, "liufang", "console-password-1")
    for _ in range(2):  # every view, even of a reporter who left no phone
        page = await console.get("/admin/tickets/1001")
        assert page.status == 200 and "工单 1001" in await page.text()
    rows = await fetch(db_url, select(AuditEntry).where(AuditEntry.action == "view_personal"))
    assert [(e.actor, e.target) for e in rows] == [("user:liufang", "ticket:1001")] * 2
