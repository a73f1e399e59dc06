"""The mobile task page linked from the task card: signed, escaped, same actions as chat."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from bot.runtime import RUNTIME
from handlers.ticket_notices import announce
from storage.base import utcnow
from storage.residents import get_or_create_resident
from storage.ticket_flow import open_ticket
from storage.tickets import Ticket
from tests.db_helpers import fetch

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
