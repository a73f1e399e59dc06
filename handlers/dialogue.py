"""Dialogue helpers: cancelling a flow, numbered choices and plain yes/no answers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from handlers.commands import parse_command
from handlers.context import Context

# How sure the NLU must be of another intent before a message in the middle of a flow leaves
# it instead of being read as the answer. Measured on the held-out file (2026-11-28, TF-IDF
# intent classifier): of the top intents at >= 0.7, 2 of about 280 were wrong; greet/thank/
# check_status/human_handoff/out_of_scope predictions at >= 0.5 were never wrong.
LEAVE_CONFIDENCE = 0.7

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
    return isinstance(state.get("flow"), str)


def answers_without_nlu(text: str, state: dict[str, Any], verbs: Iterable[str] = ()) -> bool:
    """True for the bot's own commands, or a cancel word or number answering its question."""
    if is_status_command(text) or parse_command(text, verbs) is not None:
        return True
    return in_flow(state) and (is_cancel(text) or choice_number(text) is not None)


MAX_RETRIES = 2
# The recorded action (messages.action) of a turn whose answer the flow did not understand,
# so the question was asked again; conversation review and the scenario suite tell it apart.
ASKED_AGAIN = "ask_again"


def ask_again(ctx: Context, prompt: str, *, action: str, gave_up: str) -> None:
    """Repeat a question, or give up politely after MAX_RETRIES misunderstood answers."""
    ctx.state["retries"] = int(ctx.state.get("retries", 0)) + 1
    if ctx.state["retries"] > MAX_RETRIES:
        ctx.state.clear()
        ctx.action = action
        ctx.reply(gave_up)
    else:
        ctx.action = ASKED_AGAIN
        ctx.reply(prompt)
