"""The admin API: closed by default, scoped by role, masked and audited, paged, described."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert, select

from bot.app import create_app
from bot.runtime import RUNTIME
from handlers.sla import sla_colour
from storage.accounts import AuditEntry, User, issue_token
from storage.base import utcnow
from storage.community import Worker
from storage.messages import Message, store_inbound
from storage.residents import Resident, get_or_create_conversation
from storage.ticket_flow import open_ticket
from storage.tickets import OPEN_STATUSES, Ticket, TicketEvent
from tests.db_helpers import fetch
from tests.support import make_settings, say

TOKEN = "bootstrap-admin-token-for-api-tests-0123"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
NO_NLU = "http://127.0.0.1:9"


@pytest.fixture
async def api(tmp_path: Path, db_url, redis_url, receiver):
    """The app with a bootstrap admin token, a street-light ticket in G01 and one in G02."""
    settings = make_settings(tmp_path, db_url, redis_url, NO_NLU, receiver[1])
    client = TestClient(TestServer(create_app(settings.model_copy(update={"admin_token": TOKEN}))))
    await client.start_server()
    runtime = client.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        for user, place, text in (
            ("api-a", "东关中巷", "东关中巷路灯坏了，我电话13912345678"),
            ("api-b", "幸福里小区", "幸福里小区路灯不亮"),
        ):
            conv = await get_or_create_conversation(session, "generic", user, user)
            await store_inbound(
                session, conversation_id=conv.id, platform="generic", platform_msg_id=user,
                text=text,
            )  # fmt: skip
            resident = await session.get(Resident, conv.resident_id)
            resident.phone = "13912345678"
            await open_ticket(
                session, runtime.services, category="streetlight", description=text,
                reporter=resident, now=utcnow(), actor="test", location=place,
            )  # fmt: skip
    yield client
    await client.close()


async def new_user(api, username: str, role: str, worker: str | None = None) -> dict:
    body = {"username": username, "role": role, "password": "a-long-password-1"}
    if worker:
        body["worker"] = worker
    resp = await api.post("/api/users", json=body, headers=ADMIN)
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    return {"Authorization": f"Bearer {data['token']}"}


async def test_closed_by_default_with_one_error_shape(api):
    resp = await api.get("/api/tickets")
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "unauthorized"
    resp = await api.get("/api/tickets", headers={"Authorization": "Bearer nope"})
    assert resp.status == 401
    assert (await api.get("/api/tickets", headers=ADMIN)).status == 200
    spec = await (await api.get("/api/openapi.json")).json()
    assert {"/api/tickets", "/api/messages", "/api/login"} <= set(spec["paths"])
    assert spec["paths"]["/api/tickets"]["get"]["security"] == [{"bearer": []}]


async def test_a_grid_worker_sees_only_their_grid(api):
    li = await new_user(api, "lihongmei", "grid_worker", worker="李红梅")
    items = (await (await api.get("/api/tickets", headers=li)).json())["items"]
    assert [t["grid"] for t in items] == ["G01"]
    assert (await api.get("/api/tickets/1002", headers=li)).status == 404  # G02's ticket
    detail = await (await api.get("/api/tickets/1001", headers=li)).json()
    assert detail["contact"] == "139****5678"  # masked until they accept it
    resp = await api.post("/api/tickets/1001/dispatch", json={"worker": "王建国"}, headers=li)
    assert resp.status == 403
    assert (await api.get("/api/messages", headers=li)).status == 403
    assert (await api.get("/api/audit", headers=li)).status == 403


async def test_staff_see_contacts_and_it_is_audited(api, db_url):
    staff = await new_user(api, "liufang", "staff")
    detail = await (await api.get("/api/tickets/1001", headers=staff)).json()
    assert detail["contact"] == "13912345678" and detail["events"][0]["kind"] == "created"
    [entry] = await fetch(db_url, select(AuditEntry).where(AuditEntry.action == "view_personal"))
    assert entry.actor == "user:liufang" and entry.target == "ticket:1001"
    resp = await api.post("/api/tickets/1001/dispatch", json={"worker": "王建国"}, headers=staff)
    assert resp.status == 200 and (await resp.json())["assignee"] == "王建国"
    assert (await api.post("/api/tickets/1001/dispatch", json={}, headers=staff)).status == 400


async def test_search_finds_two_characters_and_masks_numbers(api, db_url):
    found = await (await api.get("/api/messages?q=路灯", headers=ADMIN)).json()
    texts = [m["text"] for m in found["items"]]
    assert len(texts) == 2 and all("路灯" in t for t in texts)
    assert any("139****5678" in t for t in texts) and not any("13912345678" in t for t in texts)
    assert (await (await api.get("/api/messages?q=煤气", headers=ADMIN)).json())["items"] == []
    revealed = await (await api.get("/api/messages?q=电话&reveal=true", headers=ADMIN)).json()
    assert "13912345678" in revealed["items"][0]["text"]
    assert await fetch(db_url, select(AuditEntry.action)) == ["view_personal"]


async def test_pages_and_bad_parameters(api):
    first = await (await api.get("/api/tickets?limit=1", headers=ADMIN)).json()
    assert [t["number"] for t in first["items"]] == ["1002"] and first["next"]
    second = await (
        await api.get(f"/api/tickets?limit=1&cursor={first['next']}", headers=ADMIN)
    ).json()
    assert [t["number"] for t in second["items"]] == ["1001"]
    for query in ("limit=abc", "status=bogus", "colour=pink", "cursor=-1"):
        resp = await api.get(f"/api/tickets?{query}", headers=ADMIN)
        assert resp.status == 400, query
        assert "error" in await resp.json()
    resp = await api.get("/api/messages?min_confidence=2", headers=ADMIN)
    assert resp.status == 400


async def test_login_gives_a_token_and_is_rate_limited(api):
    await new_user(api, "wangjianguo", "staff")
    good = {"username": "wangjianguo", "password": "a-long-password-1"}
    resp = await api.post("/api/login", json=good)
    token = (await resp.json())["token"]
    me = await api.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert (await me.json())["role"] == "staff"
    for _ in range(5):
        resp = await api.post("/api/login", json={"username": "wangjianguo", "password": "x"})
        assert resp.status == 401
    await new_user(api, "zhangxiulan", "staff")
    other = {"username": "zhangxiulan", "password": "a-long-password-1"}
    resp = await api.post("/api/login", json=other)
    assert resp.status == 200  # the address is not locked for everyone else
    # the name itself waits, longer with each failure: tests/integration/test_auth.py


async def test_statistics_as_json_csv_and_a_printable_month(api, db_url):
    runtime = api.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        ticket = (await session.scalars(select(Ticket).where(Ticket.number == "1001"))).one()
        ticket.accepted_at = ticket.created_at + timedelta(minutes=30)
        ticket.resolved_at = ticket.created_at + timedelta(hours=5)
        ticket.status, ticket.rating = "closed", 5
    data = await (await api.get("/api/stats", headers=ADMIN)).json()
    overall = data["items"][0]
    assert overall["tickets"] == 2 and overall["resolved"] == 1
    assert overall["median_accept_minutes"] == 30.0 and overall["sla_met_percent"] == 100.0
    assert overall["satisfied_percent"] == 100.0
    grids = {r["name"]: r for r in data["items"] if r["group"] == "grid"}
    assert grids["G01"]["resolved"] == 1 and grids["G02"]["resolved"] == 0
    resp = await api.get("/api/stats?format=csv", headers=ADMIN)
    text = (await resp.read()).decode("utf-8-sig")
    assert resp.content_type == "text/csv" and text.startswith("group,name,tickets")
    li = await new_user(api, "li2", "grid_worker", worker="李红梅")
    mine = await (await api.get("/api/stats", headers=li)).json()
    assert mine["items"][0]["tickets"] == 1  # a grid worker's figures are their grid's
    assert (await api.get("/api/stats?grid=G02", headers=li)).status == 404
    assert (await api.get("/api/stats?from=2026-13-01", headers=ADMIN)).status == 400
    page = await api.get("/api/stats/monthly", headers=ADMIN)
    html_text = await page.text()
    assert page.status == 200 and "晒单" in html_text and "路灯" in html_text
    assert "13912345678" not in html_text


async def test_nlu_review_relabel_and_export(api, db_url):
    runtime = api.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        rows = (await session.scalars(select(Message).order_by(Message.id))).all()
        rows[0].intent, rows[0].confidence = "nlu_fallback", 0.3
        rows[1].intent, rows[1].confidence = "report_streetlight", 0.95
    doubtful = await (await api.get("/api/nlu/review", headers=ADMIN)).json()
    assert [m["id"] for m in doubtful["items"]] == [rows[0].id]
    assert "139****5678" in doubtful["items"][0]["text"]
    path = f"/api/nlu/review/{rows[0].id}"
    bad = await api.post(path, json={"intent": "report_lamp"}, headers=ADMIN)
    assert bad.status == 400 and "unknown intent" in (await bad.json())["error"]["message"]
    assert (
        await api.post(path, json={"intent": "report_streetlight"}, headers=ADMIN)
    ).status == 200
    assert (
        await api.post("/api/nlu/review/99999", json={"intent": "greet"}, headers=ADMIN)
    ).status == 404
    assert (await (await api.get("/api/nlu/review", headers=ADMIN)).json())["items"] == []
    data = await (await api.get("/api/nlu/corrections.yml", headers=ADMIN)).text()
    assert "- intent: report_streetlight" in data and "东关中巷路灯坏了" in data
    assert "13912345678" not in data
    faq = await api.post(path, json={"intent": "faq/home_care_eligibility"}, headers=ADMIN)
    assert faq.status == 200


async def test_metrics_show_the_backlog(api):
    resp = await api.get("/metrics")  # for the scraper on the private network, like /healthz
    text = await resp.text()
    assert resp.status == 200
    assert "linli_inbound_waiting 2.0" in text  # the two stored, unanswered messages
    assert 'linli_tickets_open{colour="green"} 2.0' in text
    assert "linli_nlu_parse_seconds_bucket" in text and "process_resident_memory_bytes" in text


async def test_metrics_count_every_open_ticket_by_colour_in_sql(api):
    runtime = api.app[RUNTIME]
    now, hour = utcnow(), timedelta(hours=1)
    shapes = [  # (status, accept due, accept warn, resolve due, resolve warn)
        ("submitted", now + hour, now + hour / 2, None, None),  # green
        ("assigned", now - hour, now - 2 * hour, None, None),  # red
        ("submitted", now + hour, now - hour / 2, None, None),  # yellow
        ("accepted", None, None, now + hour, now + hour / 2),  # blue
        ("in_progress", None, None, now + hour, now - hour / 2),  # yellow
        ("in_progress", None, None, now - hour, now - 2 * hour),  # red
        ("resolved", None, None, now - hour, now - 2 * hour),  # closed: not counted
    ]
    many = 11_760  # 10,082 open; main loaded at most 10,000 open tickets per scrape, as ORM rows
    async with runtime.sessions() as session, session.begin():
        reporter = (await session.scalars(select(Ticket.reporter_id))).first()
        fields = ("status", "accept_due_at", "accept_warn_at", "resolve_due_at", "resolve_warn_at")
        rows = [
            {
                **dict(zip(fields, shapes[n % len(shapes)], strict=True)),
                "category": "streetlight",
                "description": "x",
                "reporter_id": reporter,
            }
            for n in range(many)
        ]
        await session.execute(insert(Ticket), rows)
        tickets = (await session.scalars(select(Ticket))).all()
    expected: dict[str, int] = {}
    for ticket in tickets:
        if ticket.status in OPEN_STATUSES:
            colour = sla_colour(ticket, runtime.clock())
            expected[colour] = expected.get(colour, 0) + 1
    text = await (await api.get("/metrics")).text()
    shown = {
        colour: int(float(value))
        for colour, value in re.findall(r'linli_tickets_open\{colour="(\w+)"\} (\S+)', text)
    }
    assert {c: n for c, n in shown.items() if n} == expected
    assert sum(expected.values()) > 10_000


async def test_metrics_are_read_once_per_window(api):
    first = await (await api.get("/metrics")).text()
    assert "linli_inbound_waiting 2.0" in first
    runtime = api.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        conv = await get_or_create_conversation(session, "generic", "api-c", "api-c")
        await store_inbound(
            session,
            conversation_id=conv.id,
            platform="generic",
            platform_msg_id="api-c",
            text="又一条",
        )
    scrapes = await asyncio.gather(*(api.get("/metrics") for _ in range(10)))
    for resp in scrapes:  # within http.metrics_cache_seconds: the gauges as last read
        assert "linli_inbound_waiting 2.0" in await resp.text()


async def test_metrics_want_the_metrics_token_when_one_is_set(tmp_path, db_url, redis_url):
    token = "m" * 32
    settings = make_settings(tmp_path, db_url, redis_url, NO_NLU, "http://127.0.0.1:9/")
    client = TestClient(
        TestServer(create_app(settings.model_copy(update={"metrics_token": token})))
    )
    await client.start_server()
    try:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
            resp = await client.get("/metrics", headers=headers)
            assert resp.status == 401 and "linli_" not in await resp.text()
        resp = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert resp.status == 200 and "linli_inbound_waiting" in await resp.text()
        assert (await client.get("/healthz")).status == 200  # only /metrics is guarded
    finally:
        await client.close()


async def test_the_board_filters_by_colour_as_the_clock_moves(api):
    runtime = api.app[RUNTIME]

    async def numbers(colour: str) -> list[str]:
        data = await (await api.get(f"/api/tickets?colour={colour}", headers=ADMIN)).json()
        return sorted(t["number"] for t in data["items"])

    assert await numbers("green") == ["1001", "1002"] and await numbers("red") == []
    start = utcnow()
    runtime.clock = lambda: start + timedelta(minutes=200)  # 83% of the 240 minutes to accept
    assert await numbers("yellow") == ["1001", "1002"] and await numbers("green") == []
    runtime.clock = lambda: start + timedelta(minutes=241)
    assert await numbers("red") == ["1001", "1002"]
    items = (await (await api.get("/api/tickets", headers=ADMIN)).json())["items"]
    assert {t["colour"] for t in items} == {"red"}


async def test_bookings_list_and_attendance_are_for_staff(api):
    data = await (await api.get("/api/bookings?kind=rehab", headers=ADMIN)).json()
    assert data == {"items": [], "next": None}
    assert (await api.get("/api/bookings?kind=swim", headers=ADMIN)).status == 400
    resp = await api.post(
        "/api/bookings/Y9999/attendance", json={"status": "attended"}, headers=ADMIN
    )
    assert resp.status == 404
    resp = await api.post("/api/bookings/Y9999/attendance", json={"status": "late"}, headers=ADMIN)
    assert resp.status == 400
    li = await new_user(api, "li3", "grid_worker", worker="李红梅")
    assert (await api.get("/api/bookings", headers=li)).status == 403


async def test_providers_see_their_orders_and_volunteers_the_public_wishes(api):
    from storage.community import Worker
    from storage.home_care import CareElder, CareProvider
    from storage.home_care_orders import move, request_order
    from storage.wishes import create_wish, review

    runtime = api.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        resident = await session.get(Resident, 1)
        elders = (await session.scalars(select(CareElder).order_by(CareElder.id))).all()
        b = (
            await session.scalars(select(CareProvider).where(CareProvider.name.like("夕阳红%")))
        ).one()
        when = utcnow() + timedelta(days=2)
        first = await request_order(session, elder=elders[0], requester=resident,
                                    service_item="做饭", scheduled_at=when,
                                    expected_minutes=60, actor="test")  # fmt: skip
        await request_order(session, elder=elders[0], requester=resident, service_item="理发",
                            scheduled_at=when, expected_minutes=60, actor="test")  # fmt: skip
        claimed = await move(session, first, from_statuses=("requested",), to_status="claimed",
                             actor="test", now=utcnow(), provider_id=b.id)  # fmt: skip
        assert claimed
        for text in ("一套课外书", "一个书包"):
            wish = await create_wish(session, resident_id=resident.id, conversation_id=None,
                                     wish=text, for_whom="孩子", due_text=None, now=utcnow())  # fmt: skip
        staff = (await session.scalars(select(Worker).where(Worker.role == "staff"))).first()
        await review(session, wish, approve=True, reviewer_id=staff.id, now=utcnow())
    body = {"username": "kangle", "role": "provider", "password": "a-long-password-1",
            "provider": "康乐居家养老服务中心"}  # fmt: skip
    token = (await (await api.post("/api/users", json=body, headers=ADMIN)).json())["token"]
    kangle = {"Authorization": f"Bearer {token}"}
    seen = (await (await api.get("/api/orders", headers=kangle)).json())["items"]
    assert [o["service_item"] for o in seen] == ["理发"]  # only the unclaimed one, not 夕阳红's
    assert len((await (await api.get("/api/orders", headers=ADMIN)).json())["items"]) == 2
    assert (await api.get("/api/wishes", headers=kangle)).status == 403
    volunteer = await new_user(api, "vol", "volunteer")
    public = (await (await api.get("/api/wishes", headers=volunteer)).json())["items"]
    assert [w["wish"] for w in public] == ["一个书包"]  # the approved one only
    assert len((await (await api.get("/api/wishes", headers=ADMIN)).json())["items"]) == 2
    assert (await api.get("/api/orders", headers=volunteer)).status == 403


async def test_staff_close_a_ticket_and_the_reporter_hears(api, receiver, db_url):
    rec, _ = receiver
    resp = await api.post("/api/tickets/1001/close", json={"note": "电话确认已修好"}, headers=ADMIN)
    assert resp.status == 200 and (await resp.json())["status"] == "closed"
    assert "已办结" in (await rec.wait_for("api-a", 1))[0]
    again = await api.post("/api/tickets/1001/close", json={"note": "再关"}, headers=ADMIN)
    assert again.status == 409
    kinds = await fetch(
        db_url,
        select(TicketEvent.to_status)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.number == "1001")
        .order_by(TicketEvent.id),
    )
    assert kinds == ["assigned", "resolved", "closed"]


async def audited(db_url: str) -> list[tuple[str, str, str]]:
    """Every view of personal details in the audit log: (actor, target, detail)."""
    rows = await fetch(db_url, select(AuditEntry).where(AuditEntry.action == "view_personal"))
    return [(e.actor, e.target, e.detail or "") for e in rows]


async def test_a_worker_sees_the_contact_only_after_their_own_acceptance(api, receiver, db_url):
    rec, _ = receiver
    li = await new_user(api, "lihongmei", "grid_worker", worker="李红梅")
    assert (await (await api.get("/api/tickets/1001", headers=li)).json())["contact"] == (
        "139****5678"
    )
    await say(api, "worker-li", "接单 1001")
    card = (await rec.wait_for("worker-li", 1))[0]
    assert "已接单" in card and "13912345678" in card
    detail = await (await api.get("/api/tickets/1001", headers=li)).json()
    assert detail["contact"] == "13912345678"

    await say(api, "worker-li", "转派 1001 需要换人")
    assert "申请转派" in (await rec.wait_for("worker-li", 2))[1]
    staff = await new_user(api, "liufang", "staff")
    resp = await api.post("/api/tickets/1001/dispatch", json={"worker": "李红梅"}, headers=staff)
    assert resp.status == 200
    detail = await (await api.get("/api/tickets/1001", headers=li)).json()
    assert detail["status"] == "assigned" and detail["contact"] == "139****5678"  # accept again
    [ticket] = await fetch(db_url, select(Ticket).where(Ticket.number == "1001"))
    assert ticket.accepted_at is None
    kinds = await fetch(
        db_url,
        select(TicketEvent.to_status)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.id),
    )
    assert kinds == ["assigned", "accepted", "submitted", "assigned"]  # the history is kept


async def test_every_unmasked_view_of_a_ticket_is_audited(api, receiver, db_url):
    rec, _ = receiver
    [li_id] = await fetch(db_url, select(Worker.id).where(Worker.name == "李红梅"))
    li = await new_user(api, "lihongmei", "grid_worker", worker="李红梅")
    await api.get("/api/tickets/1001", headers=li)
    assert await audited(db_url) == []  # masked: nothing to audit
    await say(api, "worker-li", "接单 1001")
    assert "13912345678" in (await rec.wait_for("worker-li", 1))[0]  # the accepted-task card
    await api.get("/api/tickets/1001", headers=li)
    await api.get("/api/tickets/1002", headers=ADMIN)  # staff and admins: every view too
    assert await audited(db_url) == [
        (f"worker:{li_id}", "ticket:1001", "reporter contact on the accepted-task card"),
        ("user:lihongmei", "ticket:1001", "ticket detail"),
        ("bootstrap-admin", "ticket:1002", "ticket detail"),
    ]


async def test_a_worker_reads_the_residents_words_masked_until_accepting(api, receiver):
    rec, _ = receiver
    li = await new_user(api, "lihongmei", "grid_worker", worker="李红梅")
    detail = await (await api.get("/api/tickets/1001", headers=li)).json()
    assert "13912345678" not in json.dumps(detail, ensure_ascii=False)
    assert detail["description"] == "东关中巷路灯坏了，我电话139****5678"
    await say(api, "worker-li", "接单 1001")
    await rec.wait_for("worker-li", 1)
    detail = await (await api.get("/api/tickets/1001", headers=li)).json()
    assert detail["description"] == "东关中巷路灯坏了，我电话13912345678"  # audited


async def test_a_linked_report_never_shows_the_second_residents_number(api, db_url):
    runtime = api.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        conv = await get_or_create_conversation(session, "generic", "api-c", "api-c")
        resident = await session.get(Resident, conv.resident_id)
        filed = await open_ticket(
            session, runtime.services, category="streetlight", reporter=resident,
            description="东关中巷的路灯又灭了，打我 138-1234-5678 或 138 1234 5678",
            now=utcnow(), actor="test", location="东关中巷",
        )  # fmt: skip
        assert filed.merged and filed.ticket.number == "1001"
        reporter = await session.get(Resident, filed.ticket.reporter_id)
        again = await open_ticket(
            session, runtime.services, category="streetlight", reporter=reporter,
            description="东关中巷路灯还是不亮，打 139 1234 5678", now=utcnow(), actor="test",
            location="东关中巷",
        )  # fmt: skip
        assert again.merged  # the reporter's own second message: kept, masked where shown
    li = await new_user(api, "lihongmei", "grid_worker", worker="李红梅")
    for who, own in ((li, "139****5678"), (ADMIN, "139 1234 5678")):
        detail = await (await api.get("/api/tickets/1001", headers=who)).json()
        other, mine = [e["note"] for e in detail["events"] if e["kind"] == "linked"]
        # stored masked: not even staff read the other resident's number from the history
        assert other == "同一问题：东关中巷的路灯又灭了，打我 138****5678 或 138****5678"
        assert mine == f"同一问题：东关中巷路灯还是不亮，打 {own}"


async def test_a_grid_worker_account_without_a_grid_is_refused(api, db_url):
    body = {"username": "nogrid", "role": "grid_worker", "password": "a-long-password-1"}
    for worker in ({}, {"worker": "刘芳"}):  # none, or a worker who has no grid (staff)
        resp = await api.post("/api/users", json={**body, **worker}, headers=ADMIN)
        assert resp.status == 400 and "grid" in (await resp.json())["error"]["message"]
    runtime = api.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        conv = await get_or_create_conversation(session, "generic", "api-d", "api-d")
        resident = await session.get(Resident, conv.resident_id)
        filed = await open_ticket(
            session, runtime.services, category="streetlight", description="外地的路灯坏了",
            reporter=resident, now=utcnow(), actor="test", location="火星路",
        )  # fmt: skip
        assert filed.ticket.grid_id is None
        number = filed.ticket.number
        # an account made before the check: a grid_worker linked to a worker without a grid
        liu = (await session.scalars(select(Worker).where(Worker.name == "刘芳"))).one()
        user = User(username="oldnogrid", display_name="old", role="grid_worker", worker_id=liu.id)
        session.add(user)
        await session.flush()
        token = await issue_token(session, user, "test", utcnow() + timedelta(days=1))
    old = {"Authorization": f"Bearer {token}"}
    assert (await api.get(f"/api/tickets/{number}", headers=old)).status == 404
    assert (await (await api.get("/api/tickets", headers=old)).json())["items"] == []
    assert (await api.get(f"/api/tickets/{number}", headers=ADMIN)).status == 200


async def test_the_cli_refuses_a_grid_worker_without_a_grid(api, db_url, tmp_path, monkeypatch):
    from bot.cli import main
    from tests.support import write_config

    monkeypatch.setenv("LINLI_CONFIG", str(write_config(tmp_path)))
    monkeypatch.setenv("LINLI_DATABASE_URL", db_url)
    for extra in ([], ["--worker", "刘芳"]):
        argv = ["admin", "create-user", "nogrid", "--role", "grid_worker", *extra]
        with pytest.raises(SystemExit) as refused:
            await asyncio.to_thread(main, argv)
        assert "grid" in str(refused.value.code)
    assert await fetch(db_url, select(User).where(User.username == "nogrid")) == []
    argv = ["admin", "create-user", "li-cli", "--role", "grid_worker", "--worker", "李红梅"]
    assert await asyncio.to_thread(main, argv) == 0
