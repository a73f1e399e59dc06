"""Disability services end to end: each application collects its details and files a ticket."""

from __future__ import annotations

import json
import re

import pytest
from aiohttp.test_utils import TestClient

from tests.db_helpers import tickets
from tests.support import Receiver, say

pytestmark = pytest.mark.rasa
PHONE = "13812345678"
TICKET = re.compile(r"工单号 (\d{4,6})")


async def apply(
    client: TestClient, rec: Receiver, user: str, text: str, answers: dict[str, str]
) -> list[str]:
    """Say text, then answer each question by the first key it contains, until the ticket number."""
    for _ in range(8):
        seen = len(rec.for_user(user))
        await say(client, user, text)
        reply = (await rec.wait_for(user, seen + 1))[-1]
        if TICKET.search(reply):
            return rec.for_user(user)
        text = next((a for q, a in answers.items() if q in reply), "")
        assert text, f"unexpected question: {rec.for_user(user)}"
    raise AssertionError(f"{user}: no ticket after {rec.for_user(user)}")


WHERE = "安康小区4号楼2单元301"
# the known phone's question first: it says 联系电话 too
COMMON = {
    "用 138****5678 吗": "对",
    "对吗": "对",
    "给谁": "我自己",
    "住在哪里": WHERE,
    "家在哪里": WHERE,
    "联系电话": PHONE,
}


@pytest.mark.parametrize(
    ("text", "category", "field", "value", "extra"),
    [
        ("我妈需要一个轮椅 帮我申请", "assistive_device", "device", "轮椅", {}),
        ("残疾证到期了要换", "disability_cert", "matter", "到期换证、补办", {}),
        ("有没有适合残疾人的工作", "job", "work", "推荐工作岗位", {"想找什么样的活": "1"}),
        ("家里卫生间想装个扶手", "accessibility", "modification", "卫生间扶手", {}),
    ],
)
async def test_each_application_files_a_staff_ticket_with_its_details(
    make_client, rasa_url, receiver, db_url, text, category, field, value, extra
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    replies = await apply(client, rec, "applicant", text, {**extra, **COMMON})
    summary = next(r for r in replies if "对吗" in r)
    assert value in summary and "138****5678" in summary
    assert all(PHONE not in r for r in replies)  # the phone is masked in every echo
    [ticket] = await tickets(db_url)
    assert ticket.category == category and ticket.number in replies[-1]
    details = json.loads(ticket.details or "{}")
    assert details[field] == value and details["phone"] == PHONE and details["for"]
    if category != "job":
        assert details["address"] == WHERE and ticket.location == WHERE
    assert "刘芳" in replies[-1]  # staff take service tickets
    card = (await rec.wait_for("staff-liu", 1))[-1]
    assert ticket.number in card and PHONE not in card


async def test_known_phone_is_offered_masked_and_relation_is_kept(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await apply(client, rec, "applicant-2", "我妈需要一个轮椅 帮我申请", COMMON)
    replies = await apply(client, rec, "applicant-2", "给我爸办个残疾证", COMMON)
    assert any("用 138****5678 吗" in r for r in replies)
    assert all(PHONE not in r for r in replies)
    _first, second = await tickets(db_url)
    details = json.loads(second.details or "{}")
    assert details["phone"] == PHONE and details["matter"] == "新办残疾证"
    assert "爸" in details["for"]
