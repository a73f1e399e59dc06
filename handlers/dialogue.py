"""Dialogue helpers: cancelling a flow, numbered choices and plain yes/no answers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from handlers.commands import parse_command

CANCEL_WORDS = frozenset(
    {"取消", "算了", "不报了", "退出", "不弄了", "不办了", "不要了", "重来", "撤销", "cancel"}
)
_HANZI_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CHOICE = re.compile(r"^(?:第|选|选择)?([0-9一二两三四五六七八九])(?:个|项|号|条)?$")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def squeeze(text: str) -> str:
    """Fold width, drop spaces, punctuation and emoji: the bare words of a short answer."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return _PUNCT.sub("", folded)


def is_cancel(text: str) -> bool:
    """True when the resident abandons what they were doing (取消 / 算了 / 不报了 …)."""
    bare = squeeze(text)
    return bare in CANCEL_WORDS or (bare.endswith("吧") and bare[:-1] in CANCEL_WORDS)


def choice_number(text: str) -> int | None:
    """The number of a numbered choice (1, １, 第二个, 选3), or None."""
    match = _CHOICE.match(squeeze(text))
    if not match:
        return None
    digit = match.group(1)
    return int(digit) if digit.isdigit() else _HANZI_DIGITS[digit]


_STATUS_COMMAND = re.compile(r"^(?:查询|查进度|查工单|进度)([a-z]?\d{4,6})?$")


def is_status_command(text: str) -> bool:
    """True for the status command the bot itself prints: 查询, or 查询 1001."""
    return _STATUS_COMMAND.match(squeeze(text)) is not None


def in_flow(state: dict[str, Any]) -> bool:
    """True when the bot is waiting for an answer to its own question."""
    engine = state.get("dialogue")
    return isinstance(state.get("flow"), str) or (
        isinstance(engine, dict) and bool(engine.get("flow"))
    )


def answers_without_nlu(text: str, state: dict[str, Any], verbs: Iterable[str] = ()) -> bool:
    """True for the bot's own commands, or a cancel word or number answering its question."""
    if is_status_command(text) or parse_command(text, verbs) is not None:
        return True
    return in_flow(state) and (is_cancel(text) or choice_number(text) is not None)


# The recorded action (messages.action) of a turn whose answer the engine did not understand,
# so the question was asked again; conversation review and the scenario suite tell it apart.
ASKED_AGAIN = "ask_again"


# asking for a person, in the words the bot itself offers (回复“转人工”) and their plain
# variants: a command, like 取消, that works whatever the NLU reads (conversation.md rule 10)
_WANTS_PERSON = re.compile(r"转人工|人工客服|人工服务|找人工|要人工|真人|找(?:个)?工作人员")


def wants_a_person(text: str) -> bool:
    """True when the message asks for a person (转人工 / 找个真人 / 人工客服)."""
    return _WANTS_PERSON.search(unicodedata.normalize("NFKC", text)) is not None
