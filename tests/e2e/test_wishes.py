"""Micro-wishes end to end: post → staff check → public list → claim (one wins) → fulfil → thanks."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from sqlalchemy import select

from bot.runtime import RUNTIME
from handlers.wishes import ASK_WHAT, public_words, status_lines, whom_label
from storage.base import utcnow
from storage.community import Worker
from storage.db import create_engine, session_factory
from storage.messages import Message
from storage.residents import Resident, get_or_create_resident
from storage.wishes import Volunteer, Wish, create_wish, review
from tests.db_helpers import fetch
from tests.support import message_body, post_signed, say

NUMBER = re.compile(r"编号 (X\d{4,6})")
NAME, PHONE = "高建华", "13912345678"


def test_public_words_leave_out_personal_details():
    words = public_words(f"孩子想要一套课外书，电话{PHONE}，送到东关中巷3号楼2单元", "东关中巷")
    assert "课外书" in words
    assert PHONE not in words and "东关中巷" not in words and "3号楼" not in words
    assert "2单元" not in words


def test_who_a_wish_is_for_in_public_words():
    said = ("我孙女", "我奶奶", "老伴", "self", None, "邻居")
    assert [whom_label(t) for t in said] == ["孩子", "老人", "老人", "本人", "本人", "家人"]


async def post_wish(client, rec, user: str, due: str = "六一之前") -> str:
    """A resident (with a name on file) posts a wish in pieces; return its number."""
    body = message_body(user, "想许个微心愿", user_name=NAME)
    assert (await post_signed(client, body)).status == 200
    assert ASK_WHAT in (await rec.wait_for(user, 1))[0]
    await say(client, user, f"孩子想要一套课外书，电话{PHONE}，3号楼2单元")
    reply = (await rec.wait_for(user, 2))[1]
    assert "对吗" in reply and "139****5678" in reply  # the contact, masked, for staff only
    await say(client, user, due)
    reply = (await rec.wait_for(user, 3))[2]
    public = reply.splitlines()[0]  # the wish as the public list will show it
    assert "【孩子】" in public and "课外书" in public and "六一之前" in public
    assert PHONE not in reply and "3号楼" not in public
    await say(client, user, "对")
    found = NUMBER.search((await rec.wait_for(user, 4))[3])
    assert found, rec.for_user(user)
    return found.group(1)


async def wishes(db_url: str) -> list[Wish]:
    """Every wish, oldest first."""
    return await fetch(db_url, select(Wish).order_by(Wish.id))


@pytest.mark.rasa
async def test_a_wish_from_post_to_thanks(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    number = await post_wish(client, rec, "w1")
    review = (await rec.wait_for("staff-liu", 1))[0]
    assert number in review and f"通过 {number}" in review and NAME not in review
    assert (await (await client.get("/wishes")).json())["items"] == []  # not checked yet

    await say(client, "volunteer-a", f"通过 {number}")  # only staff may approve
    await say(client, "staff-liu", f"通过 {number}")
    assert "已通过" in (await rec.wait_for("staff-liu", 2))[1]
    assert "通过审核" in (await rec.wait_for("w1", 5))[4]
    for volunteer, count in (("volunteer-a", 2), ("volunteer-b", 1)):
        assert any(f"认领 {number}" in t for t in await rec.wait_for(volunteer, count))
    assert any("3 转人工" in t for t in rec.for_user("volunteer-a"))  # 通过 was no command

    listed = await client.get("/wishes")
    assert listed.status == 200
    payload = await listed.json()
    [item] = payload["items"]
    assert item["number"] == number and item["for_whom"] == "孩子" and "课外书" in item["wish"]
    shown = json.dumps(payload, ensure_ascii=False)
    assert NAME not in shown and PHONE not in shown and "3号楼" not in shown
    assert await (await client.get(f"/wishes/{number.lower()}")).json() == item

    before = {v: len(rec.for_user(v)) for v in ("volunteer-a", "volunteer-b")}
    await asyncio.gather(
        say(client, "volunteer-a", f"认领 {number}"), say(client, "volunteer-b", f"认领 {number}")
    )
    answers = {v: (await rec.wait_for(v, before[v] + 1))[-1] for v in before}
    winners = [v for v, text in answers.items() if "认领成功" in text]
    assert len(winners) == 1, answers
    winner = winners[0]
    loser = "volunteer-b" if winner == "volunteer-a" else "volunteer-a"
    assert "已经被其他志愿者认领" in answers[loser]
    assert "认领" in (await rec.wait_for("w1", 6))[5]
    [wish] = await wishes(db_url)
    [claimer] = await fetch(db_url, select(Volunteer).where(Volunteer.id == wish.volunteer_id))
    assert wish.status == "claimed" and claimer.platform_user_id == winner

    await say(client, loser, f"圆梦 {number}")
    assert "不是您认领中" in (await rec.wait_for(loser, before[loser] + 2))[-1]
    await say(client, winner, f"圆梦 {number} 书已经送到家了")
    assert "已记为实现" in (await rec.wait_for(winner, before[winner] + 2))[-1]
    fulfilled = (await rec.wait_for("w1", 7))[6]
    assert "实现" in fulfilled and f"答谢 {number}" in fulfilled

    await say(client, "w1", f"答谢 {number}")
    assert "想对志愿者说的话" in (await rec.wait_for("w1", 8))[7]
    await say(client, "w1", "谢谢叔叔，孩子很喜欢这些书！")
    assert "转达" in (await rec.wait_for("w1", 9))[8]
    thanks = (await rec.wait_for(winner, before[winner] + 3))[-1]
    assert "孩子很喜欢这些书" in thanks and number in thanks
    [wish] = await wishes(db_url)
    assert wish.status == "fulfilled" and wish.thanked_at is not None
    assert wish.claimed_at and wish.fulfilled_at and wish.fulfil_note == "书已经送到家了"


@pytest.mark.rasa
async def test_a_rejected_wish_is_never_listed(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    number = await post_wish(client, rec, "w2")
    await rec.wait_for("staff-liu", 1)
    await say(client, "staff-liu", f"驳回 {number}")
    assert "请写上原因" in (await rec.wait_for("staff-liu", 2))[1]
    await say(client, "staff-liu", f"驳回 {number} 内容需要再具体一些")
    assert "已驳回" in (await rec.wait_for("staff-liu", 3))[2]
    assert "内容需要再具体一些" in (await rec.wait_for("w2", 5))[4]
    assert (await (await client.get("/wishes")).json())["items"] == []
    assert (await client.get(f"/wishes/{number}")).status == 404
    await say(client, "volunteer-a", f"认领 {number}")
    assert "还没有公开" in (await rec.wait_for("volunteer-a", 1))[0]
    await say(client, "someone", f"认领 {number}")  # not a registered volunteer
    assert "登记成为志愿者" in (await rec.wait_for("someone", 1))[0]
    [wish] = await wishes(db_url)
    assert wish.status == "rejected" and wish.volunteer_id is None


@pytest.mark.rasa
async def test_status_lines_name_each_wish_step(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    number = await post_wish(client, rec, "w3")
    await say(client, "volunteer-b", "心愿清单")
    assert "没有等待认领" in (await rec.wait_for("volunteer-b", 1))[0]
    engine = create_engine(db_url)
    async with session_factory(engine)() as session:
        [resident] = (
            await session.scalars(select(Resident).where(Resident.platform_user_id == "w3"))
        ).all()
        assert await status_lines(session, resident.id) == [
            f"心愿 {number}【孩子想要一套课外书】：等待社区审核"
        ]
        assert await status_lines(session, resident.id + 1000) == []
    await engine.dispose()


@pytest.mark.rasa
async def test_the_wish_date_is_listed_without_the_residents_number(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    number = await post_wish(client, rec, "w4", due=f"六一之前，急事打{PHONE}")
    await rec.wait_for("staff-liu", 1)
    await say(client, "staff-liu", f"通过 {number}")
    await rec.wait_for("staff-liu", 2)
    [item] = (await (await client.get("/wishes")).json())["items"]
    assert item["due"] == "六一之前"  # the deadline as said; the number is contact, not date
    [wish] = await wishes(db_url)
    assert PHONE not in (wish.due_text or "") + wish.wish


async def test_an_older_wish_row_is_masked_on_the_public_list(make_client, db_url):
    client = await make_client("http://127.0.0.1:9")
    runtime = client.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        resident = await get_or_create_resident(session, "generic", "w5")
        wish = await create_wish(
            session, resident_id=resident.id, conversation_id=None, wish="一套课外书",
            for_whom="孩子", due_text="月底 138 1234 5678", now=utcnow(),
        )  # fmt: skip
        staff = (await session.scalars(select(Worker).where(Worker.role == "staff"))).first()
        assert await review(session, wish, approve=True, reviewer_id=staff.id, now=utcnow())
    [item] = (await (await client.get("/wishes")).json())["items"]
    assert item["due"] == "月底 138****5678"
    assert (await (await client.get(f"/wishes/{wish.number}")).json())["due"] == item["due"]


@pytest.mark.rasa
async def test_a_long_message_is_cut_at_ingest_and_answered_at_once(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "w-long", "想许个微心愿")
    assert ASK_WHAT in (await rec.wait_for("w-long", 1))[0]
    # a body at the size limit, nearly all spaces: main's contact pattern took about a
    # minute of blocked event loop on it, and handlers got all 64 KiB of it
    spaces = 65536 - len(message_body("w-long", "孩子想要一套课外书谢谢")) - 64
    text = "孩子想要一套课外书" + " " * spaces + "谢谢"
    assert (await post_signed(client, message_body("w-long", text))).status == 200
    confirm = (await rec.wait_for("w-long", 2, within=20))[1]
    assert "【孩子】孩子想要一套课外书" in confirm and "  " not in confirm
    limit = 2000  # config.yml's http.max_text_chars
    stored = await fetch(db_url, select(Message.text).where(Message.text.like("孩子想要%")))
    assert [len(t) for t in stored] == [limit]
