"""Conversation search through /api/messages?q=: the bigram index gives LIKE's results, folded."""

from __future__ import annotations

import asyncio
import itertools
import random
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from alembic import command
from sqlalchemy import func, insert, select

from bot.app import create_app
from bot.runtime import RUNTIME
from bot.scheduler import run_job
from handlers.modules import default_jobs
from handlers.retention import ERASED
from storage.base import utcnow
from storage.db import create_engine
from storage.messages import Message, record_outbound, store_inbound
from storage.migrate import alembic_config, upgrade
from storage.residents import get_or_create_conversation
from storage.search import fold
from tests.db_helpers import fetch
from tests.support import make_settings, message_body, post_signed

TOKEN = "bootstrap-admin-token-for-search-tests-0123"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
NO_NLU = "http://127.0.0.1:9"

TEXTS = (
    "东关中巷路灯坏了，晚上很黑",
    "路边有个灯一闪一闪",
    "3号楼电梯又停了",
    "12栋楼道灯不亮",
    "112栋门口堆了垃圾",
    "家里WiFi密码忘了怎么办",
    "停水了！！什么时候来水？",
    "优惠100%返现是真的吗",
    "编号a_b的快递",
    "编号acb的快递",
    "有人说' OR 1=1 -- 是什么意思",
    "東關中巷路燈壞了，請盡快修理",
    "３号楼门禁卡丢了",
    "水管漏了 管道也漏水",
)


async def _store(runtime: Any, texts: list[str] | tuple[str, ...], user: str = "s") -> list[int]:
    ids = []
    async with runtime.sessions() as session, session.begin():
        conv = await get_or_create_conversation(session, "generic", user, user)
        for n, value in enumerate(texts):
            message = await store_inbound(
                session, conversation_id=conv.id, platform="generic",
                platform_msg_id=f"{user}-{n}", text=value,
            )  # fmt: skip
            assert message is not None
            ids.append(message.id)
    return ids


@pytest.fixture
async def api(tmp_path: Path, db_url: str, redis_url: str, receiver: Any) -> Any:
    """The app with a bootstrap admin token and the messages of TEXTS."""
    settings = make_settings(tmp_path, db_url, redis_url, NO_NLU, receiver[1])
    client = TestClient(TestServer(create_app(settings.model_copy(update={"admin_token": TOKEN}))))
    await client.start_server()
    await _store(client.app[RUNTIME], TEXTS)
    yield client
    await client.close()


async def search(api: TestClient, q: str, limit: int = 100, **filters: str) -> list[dict]:
    """Every page of a search, in the order the API gives them."""
    items: list[dict] = []
    cursor = None
    while True:
        params = {"q": q, "limit": str(limit), **filters}
        if cursor:
            params["cursor"] = cursor
        resp = await api.get("/api/messages?" + urlencode(params), headers=ADMIN)
        assert resp.status == 200, await resp.text()
        body = await resp.json()
        items += body["items"]
        if not (cursor := body["next"]):
            return items


async def texts(api: TestClient, q: str, **filters: str) -> set[str]:
    return {item["text"] for item in await search(api, q, reveal="true", **filters)}


async def test_two_and_three_characters_latin_and_digits(api):
    assert await texts(api, "路灯") == {TEXTS[0], TEXTS[11]}  # not 路边有个灯; 路燈 folds
    assert await texts(api, "楼道灯") == {TEXTS[3]}
    assert await texts(api, "3号楼") == {TEXTS[2], TEXTS[12]}  # ３ is a full-width 3
    assert await texts(api, "12栋") == {TEXTS[3], TEXTS[4]}  # like LIKE: 112栋 contains 12栋
    assert await texts(api, "wifi") == await texts(api, "WiFi") == {TEXTS[5]}
    assert await texts(api, "煤气") == set()
    assert await texts(api, "管道也漏") == {TEXTS[13]}
    assert await texts(api, "水管道") == set()  # 水管 and 管道 are there, but not in a row


async def test_punctuation_and_like_metacharacters_are_literal(api):
    assert await texts(api, "了！！") == {TEXTS[6]}
    assert await texts(api, "了!!") == {TEXTS[6]}  # half-width query, full-width text
    assert await texts(api, "100%") == {TEXTS[7]}
    assert await texts(api, "a_b") == {TEXTS[8]}  # _ is not a wildcard
    assert await texts(api, "%") == {TEXTS[7]}  # one character: the LIKE path, escaped
    assert await texts(api, "_") == {TEXTS[8]}
    assert await texts(api, "%%") == await texts(api, "__") == set()


@pytest.mark.parametrize(
    "attack",
    ["'; DROP TABLE messages; --", "路灯' OR '1'='1", '"路灯" OR 坏', "路灯 NEAR 坏", "路灯' | '坏",
     "路灯:* & !坏", "x')) UNION SELECT 1 --", "rowid MATCH 'a'"],
)  # fmt: skip
async def test_injection_attempts_are_searched_as_text(api, db_url, attack):
    assert await texts(api, attack) == set()
    assert await texts(api, "' OR 1=1 --") == {TEXTS[10]}
    assert len(await fetch(db_url, select(Message.id))) == len(TEXTS)


async def test_traditional_and_simplified_find_each_other(api):
    assert await texts(api, "路燈壞了") == {TEXTS[0], TEXTS[11]}
    assert await texts(api, "尽快修理") == await texts(api, "盡快修理") == {TEXTS[11]}
    assert await texts(api, "東關") == {TEXTS[0], TEXTS[11]}


async def test_replies_and_new_messages_are_found_and_retention_forgets(api, db_url):
    runtime = api.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        conv = await get_or_create_conversation(session, "generic", "s", "s")
        record_outbound(
            session, conversation_id=conv.id, platform="generic", text="已为您登记下水道堵塞",
            reply_to_id=None,
        )  # fmt: skip
    assert await texts(api, "下水道") == {"已为您登记下水道堵塞"}
    now = utcnow()
    async with runtime.sessions() as session, session.begin():
        old = await session.get(Message, (await _store(runtime, ["下水道又堵了"], "old"))[0])
        old.created_at, old.status = now - timedelta(days=400), "done"
    assert len(await texts(api, "下水道")) == 2
    [job] = [j for j in default_jobs() if j.name.endswith("erase_old_texts")]
    assert await run_job(runtime, job, now=now) == 1
    assert await texts(api, "下水道") == {"已为您登记下水道堵塞"}
    assert await texts(api, "删除") == set()  # the erased placeholder is not indexed
    assert await fetch(db_url, select(Message.text).where(Message.id == old.id)) == [ERASED]


async def test_the_migration_indexes_messages_stored_before_it(api, db_url):
    url = db_url
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0006")
    runtime = api.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        conv = await get_or_create_conversation(session, "generic", "pre", "pre")
        await session.execute(
            insert(Message).values(
                conversation_id=conv.id, platform="generic", platform_msg_id="pre-1",
                direction="in", text="小区北门积水很深", status="done", created_at=utcnow(),
            )
        )  # fmt: skip
    await asyncio.to_thread(upgrade, url)
    assert await texts(api, "积水") == {"小区北门积水很深"}
    assert await texts(api, "路灯") == {TEXTS[0], TEXTS[11]}


_POOL = (
    "路灯坏了不亮东关中巷幸福里小区号楼栋单元电梯停水停电煤气味道很大噪音扰民垃圾没人清理"
    "路燈壞東關樓電樑氣噪聲請儘快修理預約康復輪椅申請"
    "0123456789abcXYZ，。！？、%_ -'\"()"
)


def _varied(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        out.append("".join(rng.choice(_POOL) for _ in range(rng.randint(1, 24))).strip() or "空")
    return out


async def test_results_equal_a_scan_over_varied_messages(api, db_url):
    rng = random.Random(20261128)
    runtime = api.app[RUNTIME]
    await _store(runtime, _varied(rng, 300), "prop")
    stored = dict(await fetch_rows(db_url))
    queries = {"路灯", "号楼", "停水", "a_", "%_", "1 ", "路燈", "壞了"}
    for value in rng.sample(sorted(set(stored.values())), 40):
        start = rng.randrange(len(value))
        queries.add(value[start : start + rng.randint(2, 4)])
    queries.update("".join(rng.choice(_POOL) for _ in range(2)) for _ in range(30))
    for value in sorted(set(stored.values())):  # every bigram present, but not in a row
        for i, j in itertools.combinations(range(len(value) - 1), 2):
            if value[i + 1] == value[j] and j > i + 1 and len(queries) < 160:
                queries.add(value[i : i + 2] + value[j + 1])
    for q in sorted(queries):
        if len(q.strip()) < 2:
            continue
        found = [item["id"] for item in await search(api, q, limit=25)]
        expected = {i for i, t in stored.items() if fold(q.strip()) in fold(t)}
        assert set(found) == expected, q
        assert found == sorted(found, reverse=True) and len(found) == len(set(found)), q
        pattern = "%" + q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = await fetch(
            db_url, select(Message.id).where(Message.text.like(pattern + "%", escape="\\"))
        )
        assert set(like) <= set(found), q  # whatever LIKE finds, search finds


async def fetch_rows(db_url: str) -> list[tuple[int, str]]:
    """Every message's id and text, straight from the database."""
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(Message.id, Message.text))).all()
    finally:
        await engine.dispose()
    return [(r[0], r[1]) for r in rows]


async def test_pages_are_stable_while_messages_arrive(api, db_url):
    runtime = api.app[RUNTIME]
    await _store(runtime, [f"{n}号楼有积水" for n in range(7)], "page")
    first = await (await api.get("/api/messages?q=积水&limit=3", headers=ADMIN)).json()
    await _store(runtime, ["新来的积水消息"], "later")
    rest = await search(api, "积水", limit=3, cursor=first["next"])
    ids = [item["id"] for item in first["items"] + rest]
    assert len(ids) == 7 == len(set(ids)) and ids == sorted(ids, reverse=True)
    assert len(await search(api, "积水", limit=2)) == 8
    total = await fetch(db_url, select(func.count()).select_from(Message))
    assert total == [len(TEXTS) + 8]


async def test_search_with_filters_and_one_character(api):
    assert len(await search(api, "灯", platform="generic")) == 3  # one character: LIKE
    assert await search(api, "路灯", platform="wecom") == []
    soon = (utcnow() + timedelta(days=1)).isoformat()
    assert len(await search(api, "路灯", until=soon, direction="in")) == 2
    assert await search(api, "路灯", since=soon) == []


async def test_date_windows_across_months_and_a_changed_date(api):
    runtime, now = api.app[RUNTIME], utcnow()
    names = ["窨井盖丢了 一", "窨井盖丢了 二", "窨井盖丢了 三", "窨井盖丢了 四"]
    ids = await _store(runtime, names, "dates")
    async with runtime.sessions() as session, session.begin():
        for message_id, days in zip(ids, (400, 95, 40), strict=False):  # 四 stays new
            message = await session.get(Message, message_id)
            assert message is not None
            message.created_at = now - timedelta(days=days)

    def ago(days: int) -> str:
        return (now - timedelta(days=days)).isoformat()

    assert await texts(api, "窨井盖", since=ago(100), until=ago(90)) == {names[1]}
    assert await texts(api, "窨井盖", since=ago(420), until=ago(30)) == set(names[:3])
    assert await texts(api, "窨井盖", since=ago(45)) == set(names[2:])
    assert await texts(api, "窨井盖", until=ago(300)) == {names[0]}
    assert await texts(api, "窨井盖", since=ago(2000), until=ago(1900)) == set()


async def test_a_message_arriving_through_the_webhook_is_found(api):
    """The webhook stores with one Core INSERT (no ORM hook): it must index the text too."""
    body = message_body("webhook-resident", "西关后巷井盖松动了，孩子差点踩空")
    resp = await post_signed(api, body)
    assert resp.status == 200, await resp.text()
    assert await texts(api, "井盖") == {"西关后巷井盖松动了，孩子差点踩空"}
    assert await texts(api, "後巷") == {"西关后巷井盖松动了，孩子差点踩空"}  # traditional folds


async def test_date_window_edges_when_ids_and_dates_disagree(api):
    """The window's id bounds (migration 0011's day index) only narrow: dates decide.

    Ids are given out of date order on purpose, as imports, backfills and edited dates
    leave them: the lowest id is dated inside the window, the highest id is backdated into
    it, and rows sit exactly on both edges and one microsecond outside them.
    """
    runtime, now = api.app[RUNTIME], utcnow()
    since = (now - timedelta(days=40)).replace(hour=12, minute=0, second=0, microsecond=0)
    until = since + timedelta(days=20)
    tick = timedelta(microseconds=1)
    dated = {
        "lowest id, mid-window": since + timedelta(days=5),
        "before since": since - tick,
        "exactly since": since,
        "exactly until": until,
        "just before until": until - tick,
        "long before": since - timedelta(days=100),
        "after until": until + timedelta(days=1),
        "highest id, backdated": since + timedelta(days=1),
    }
    ids = await _store(runtime, [f"窨井盖 {name}" for name in dated], "edges")
    async with runtime.sessions() as session, session.begin():
        for message_id, created in zip(ids, dated.values(), strict=True):
            message = await session.get(Message, message_id)
            assert message is not None
            message.created_at = created
    by_name = dict(zip(dated, ids, strict=True))
    inside = ["highest id, backdated", "just before until", "exactly since",
              "lowest id, mid-window"]  # fmt: skip
    expected = [by_name[name] for name in inside]
    assert expected == sorted(expected, reverse=True)
    window = {"since": since.isoformat(), "until": until.isoformat()}
    for q in ("窨井盖", "窨"):  # the bigram index and the one-character scan
        for limit in (100, 1):  # one page, and one message a page through the cursor
            found = [item["id"] for item in await search(api, q, limit=limit, **window)]
            assert found == expected, (q, limit)
    everything = {"limit": "100", **window}
    resp = await api.get("/api/messages?" + urlencode(everything), headers=ADMIN)
    assert [item["id"] for item in (await resp.json())["items"]] == expected  # no q
    after = [by_name[name] for name in dated if dated[name] >= since]
    assert [i["id"] for i in await search(api, "窨井盖", since=since.isoformat())] == sorted(
        after, reverse=True
    )
    before = [by_name[name] for name in dated if dated[name] < until]
    assert [i["id"] for i in await search(api, "窨井盖", until=until.isoformat())] == sorted(
        before, reverse=True
    )
    empty = {"since": (since - timedelta(days=60)).isoformat(),
             "until": (since - timedelta(days=50)).isoformat()}  # fmt: skip
    assert await search(api, "窨井盖", **empty) == []  # no message on those days at all
    assert await search(api, "窨井盖", since=until.isoformat(), until=since.isoformat()) == []
