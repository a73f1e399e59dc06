"""The FAQ knowledge base: checked against the NLU contract; answers and offers through chat."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from handlers.faq import (
    FAQ_KEYS,
    KB_PATH,
    KnowledgeBaseError,
    knowledge_base,
    load_kb,
    offered_form,
)
from handlers.wishes import ASK_WHAT
from nlu import paths
from storage.messages import Message
from tests.db_helpers import fetch
from tests.support import say

KB = knowledge_base()
DOMAIN = yaml.safe_load((paths.PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))


def test_the_knowledge_base_has_every_contract_key_and_nothing_else():
    assert set(KB) == set(FAQ_KEYS)
    trained = {
        name.split("/", 1)[1] for name in DOMAIN["responses"] if name.startswith("utter_faq/")
    }
    assert trained == set(FAQ_KEYS)  # the NLU's response keys are the knowledge base's keys


def test_every_offer_names_a_contract_intent():
    intents = set(DOMAIN["intents"])
    for key, entry in KB.items():
        assert entry.answer and entry.next, key
        assert entry.offer is None or entry.offer.intent in intents, key


def test_answers_carry_the_published_numbers():
    fee = KB["home_care_hours_fee"].answer
    assert all(n in fee for n in ("甲", "30", "20", "10", "17")), fee
    assert "21" in KB["home_care_items"].answer
    assert " " not in KB["home_care_eligibility"].answer  # folded lines join without spaces


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda kb: kb.pop("micro_wish"), "missing keys ['micro_wish']"),
        (lambda kb: kb.update(pension={"answer": "x", "next": "y"}), "unknown keys ['pension']"),
        (lambda kb: kb["accessibility"].pop("answer"), "accessibility.answer"),
        (lambda kb: kb["disability_cert"].update(offer={"intent": "x"}), "disability_cert.offer"),
    ],
)
def test_a_broken_knowledge_base_is_refused_at_load(tmp_path: Path, change, message):
    data = yaml.safe_load(KB_PATH.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "faq.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_kb(path)


@pytest.mark.rasa
async def test_faq_answer_then_one_starts_the_offered_service(
    make_client, rasa_url, receiver, db_url
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "f1", "微心愿是什么意思")
    answer = (await rec.wait_for("f1", 1))[0]
    assert KB["micro_wish"].answer in answer and KB["micro_wish"].next in answer
    assert "回复 1 许一个心愿" in answer
    await say(client, "f1", "1")
    assert ASK_WHAT in (await rec.wait_for("f1", 2))[1]  # the make_wish flow has begun
    actions = await fetch(
        db_url, select(Message.action).where(Message.direction == "in").order_by(Message.id)
    )
    assert actions == ["faq:micro_wish", "wish_ask_what"]


@pytest.mark.rasa
async def test_home_care_answer_offers_to_apply(make_client, rasa_url, receiver, db_url):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "f2", "哪些老人可以申请居家养老服务")
    answer = (await rec.wait_for("f2", 1))[0]
    assert KB["home_care_eligibility"].answer in answer
    assert offered_form("request_home_care") is not None  # home care is a service here
    assert "回复 1 申请居家养老服务" in answer
    await say(client, "f2", "1")
    await rec.wait_for("f2", 2)
    actions = await fetch(
        db_url, select(Message.action).where(Message.direction == "in").order_by(Message.id)
    )
    assert actions[0] == "faq:home_care_eligibility"
    assert actions[1] and actions[1] != "menu"  # the home-care flow answered the "1"


@pytest.mark.rasa
async def test_anything_but_one_after_an_answer_is_understood_afresh(
    make_client, rasa_url, receiver
):
    rec, _ = receiver
    client = await make_client(rasa_url)
    await say(client, "f3", "居家养老一个月能服务多少小时")
    assert "30小时" in (await rec.wait_for("f3", 1))[0]
    await say(client, "f3", "东关中巷的路灯坏了")
    reply = (await rec.wait_for("f3", 2))[1]
    assert "路灯" in reply and "东关中巷" in reply
