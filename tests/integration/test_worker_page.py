"""The mobile task page linked from the task card: signed, escaped, same actions as chat."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from bot.runtime import RUNTIME
from handlers.ticket_notices import announce
from storage.accounts import AuditEntry
from storage.base import utcnow
from storage.community import Worker
from storage.residents import get_or_create_resident
from storage.ticket_flow import open_ticket
from storage.tickets import Ticket
from tests.db_helpers import fetch
from tests.support import say

NO_NLU = "http://127.0.0.1:9"  # no message is parsed here
LINK = re.compile(r"手机办理：(\S+)")


async def pushed_task(client, rec, description: str) -> str:
    """File a ticket at 东关中巷 and return the path of the link on 李红梅's task card."""
    runtime = client.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        reporter = await get_or_create_resident(session, "generic", "page-res")
        reporter.name, reporter.phone = "赵大爷", "13912345678"
        filed = await open_ticket(
            session, runtime.services, category="streetlight", description=description,
            reporter=reporter, now=utcnow(), actor="test", location="东关中巷7号楼",
        )  # fmt: skip
        await announce(session, runtime.services, filed, reporter)
    runtime.wake_outbox()
    card = (await rec.wait_for("worker-li", 1))[0]
    url = urlsplit(LINK.search(card).group(1))
    return f"{url.path}?{url.query}"


async def test_the_link_opens_the_task_and_accepts_it(make_client, receiver, db_url):
    rec, _ = receiver
    client = await make_client(NO_NLU)
    path = await pushed_task(client, rec, "路灯不亮<script>alert(1)</script>")
    page = await client.get(path)
    text = await page.text()
    assert page.status == 200 and "工单 1001" in text
    assert "<script>alert" not in text and "&lt;script&gt;" in text  # resident text escaped
    assert "139****5678" in text and "13912345678" not in text  # masked until accepted
    query = dict(p.split("=") for p in path.split("?")[1].split("&"))
    resp = await client.post(path.split("?")[0], data={**query, "action": "accept"})
    text = await resp.text()
    assert resp.status == 200 and "已接单" in text and "13912345678" in text
    [ticket] = await fetch(db_url, select(Ticket))
    assert ticket.status == "accepted"
    assert "李红梅接单" in (await rec.wait_for("page-res", 1))[0]
    resp = await client.post(
        path.split("?")[0], data={**query, "action": "finish", "note": "已更换灯泡"}
    )
    assert "已标记完成" in await resp.text()
    [ticket] = await fetch(db_url, select(Ticket))
    assert ticket.status == "resolved"


async def test_a_forged_or_borrowed_link_is_refused(make_client, receiver, db_url):
    rec, _ = receiver
    client = await make_client(NO_NLU)
    path = await pushed_task(client, rec, "路灯不亮")
    base, query = path.split("?")
    fields = dict(p.split("=") for p in query.split("&"))
    assert (await client.get(f"{base}?w={fields['w']}&s=0000")).status == 403
    other = int(fields["w"]) + 1  # another worker reusing 李红梅's signature
    assert (await client.get(f"{base}?w={other}&s={fields['s']}")).status == 403
    resp = await client.post(base, data={"w": str(other), "s": fields["s"], "action": "accept"})
    assert resp.status == 403
    assert (await client.get(f"/w/9999?{query}")).status == 404
    for odd in ("²", "99999999999", "0", "-1"):  # not a worker id: 404, never a 500
        assert (await client.get(f"{base}?w={odd}&s={fields['s']}")).status == 404
    [ticket] = await fetch(db_url, select(Ticket))
    assert ticket.status == "assigned"


async def views_audited(db_url: str) -> list[tuple[str, str]]:
    """The audit log's views of personal details: (actor, detail)."""
    rows = await fetch(db_url, select(AuditEntry).where(AuditEntry.action == "view_personal"))
    return [(e.actor, e.detail or "") for e in rows]


def fields_of(path: str) -> dict[str, str]:
    """The w and s fields of a task-page link."""
    return dict(p.split("=") for p in path.split("?")[1].split("&"))


async def test_a_new_holder_sees_the_contact_only_after_accepting(make_client, receiver, db_url):
    rec, _ = receiver
    client = await make_client(NO_NLU)
    path = await pushed_task(client, rec, "路灯不亮")
    base = path.split("?")[0]
    text = await (await client.post(base, data={**fields_of(path), "action": "accept"})).text()
    assert "13912345678" in text and "赵大爷" in text
    hand_back = {**fields_of(path), "action": "hand_back", "reason": "不在我的片区"}
    assert "申请转派" in await (await client.post(base, data=hand_back)).text()
    await say(client, "leader-chen", "派单 1001 王建国")  # 转派, then a new dispatch
    card = (await rec.wait_for("worker-wang", 1))[0]
    assert "13912345678" not in card and "接单后可见" in card
    url = urlsplit(LINK.search(card).group(1))
    wang_path = f"{url.path}?{url.query}"
    page = await (await client.get(wang_path)).text()
    assert "139****5678" in page and "13912345678" not in page and "赵大爷" not in page
    wang_audits = await views_audited(db_url)
    accept = {**fields_of(wang_path), "action": "accept"}
    page = await (await client.post(base, data=accept)).text()
    assert "13912345678" in page and "赵大爷" in page  # now his own acceptance
    assert len(await views_audited(db_url)) == len(wang_audits) + 1
    old = await (await client.get(path)).text()  # 李红梅's old link: no longer hers
    assert "13912345678" not in old and "赵大爷" not in old


async def test_every_unmasked_page_view_is_audited(make_client, receiver, db_url):
    rec, _ = receiver
    client = await make_client(NO_NLU)
    path = await pushed_task(client, rec, "路灯不亮")
    await client.get(path)
    assert await views_audited(db_url) == []  # masked: nothing to audit
    [li] = await fetch(db_url, select(Worker.id).where(Worker.name == "李红梅"))
    await client.post(path.split("?")[0], data={**fields_of(path), "action": "accept"})
    for _ in range(2):
        assert "13912345678" in await (await client.get(path)).text()
    assert await views_audited(db_url) == [(f"worker:{li}", "task page contact")] * 3


async def test_residents_numbers_are_masked_for_workers_and_units(make_client, receiver, db_url):
    rec, _ = receiver
    client = await make_client(NO_NLU)
    typed = ("138 1234 5678", "138-1234-5678", "110101 19900101 123X")
    words = f"路灯不亮，有事打 {typed[0]} 或 {typed[1]}，身份证 {typed[2]}"
    path = await pushed_task(client, rec, words)
    card = rec.for_user("worker-li")[0]
    unit = (await rec.wait_for("unit-light", 1))[0]  # the street-light office gets it too
    page = await (await client.get(path)).text()
    for shown in (card, unit, page):
        assert not any(number in shown for number in typed), shown
        assert "138****5678" in shown and "110101********123X" in shown
    await client.post(path.split("?")[0], data={**fields_of(path), "action": "accept"})
    page = await (await client.get(path)).text()
    assert all(number in page for number in typed)  # the accepting worker: as typed (audited)
