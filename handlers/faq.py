"""Policy questions (faq/<key>): the answer from the knowledge base, then the matching action.

The answers are data (handlers/faq.yml), read and checked once, when the app is built (or on
the first question): every key of the NLU contract must be there, and nothing else. After an
answer that has an offer, "1" starts that service: the handler of the offered intent is looked
up by name at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from handlers.context import Context
from handlers.dialogue import choice_number
from handlers.engine.answers import AnswerKind, read_answer
from handlers.engine.details import is_question
from handlers.engine.forms import Form
from handlers.engine.state import Dialogue
from handlers.registry import Handler, Registry, intent
from nlu.client import ParseResult

KB_PATH = Path(__file__).with_name("faq.yml")
# The FAQ response keys of the NLU contract (shared/spec/intents.md); fixed names.
FAQ_KEYS = (
    "home_care_eligibility",
    "home_care_hours_fee",
    "home_care_items",
    "disability_cert",
    "rehab_children",
    "assistive_device",
    "accessibility",
    "service_station",
    "micro_wish",
    "employment_policy",
)


class KnowledgeBaseError(ValueError):
    """The FAQ knowledge base does not match the contract (missing, unknown or empty entries)."""


@dataclass(frozen=True)
class Offer:
    """The action offered after an answer: the intent that starts it and its label."""

    intent: str
    label: str


@dataclass(frozen=True)
class Entry:
    """One FAQ answer: the answer, where to go next, and the action to offer."""

    answer: str
    next: str
    offer: Offer | None


def _plain(text: object, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise KnowledgeBaseError(f"{where}: text missing")
    return "".join(text.split())  # folded YAML lines join without spaces in Chinese


def load_kb(path: Path = KB_PATH) -> dict[str, Entry]:
    """Read and check the knowledge base: exactly the contract's keys, each complete."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(f"{path}: expected a mapping of FAQ keys")
    missing = sorted(set(FAQ_KEYS) - set(raw))
    unknown = sorted(set(raw) - set(FAQ_KEYS))
    if missing or unknown:
        raise KnowledgeBaseError(f"{path}: missing keys {missing}, unknown keys {unknown}")
    kb = {}
    for key, item in raw.items():
        if not isinstance(item, dict) or set(item) - {"answer", "next", "offer"}:
            raise KnowledgeBaseError(f"{path}: {key}: expected answer, next and offer")
        offer = item.get("offer")
        if offer is not None and not (
            isinstance(offer, dict) and set(offer) == {"intent", "label"}
        ):
            raise KnowledgeBaseError(f"{path}: {key}.offer: expected intent and label")
        kb[key] = Entry(
            answer=_plain(item.get("answer"), f"{key}.answer"),
            next=_plain(item.get("next"), f"{key}.next"),
            offer=Offer(str(offer["intent"]), _plain(offer["label"], key)) if offer else None,
        )
    return kb


@cache
def knowledge_base() -> dict[str, Entry]:
    """The knowledge base of handlers/faq.yml, read and checked on the first call."""
    return load_kb()


@cache
def _registry() -> Registry:
    # Imported here, not at the top: the standard handler modules include this one.
    from handlers.modules import default_registry

    return default_registry()


def offered_handler(name: str) -> Handler | None:
    """The handler registered for an intent, looked up among the standard handler modules."""
    return _registry().get(name)


def offered_form(name: str) -> Form | None:
    """The engine's form an intent starts, among the standard handler modules."""
    return _registry().engine.form_for(name)


@intent("faq")
async def answer_faq(ctx: Context) -> None:
    """Answer a policy question from the knowledge base and offer the matching action."""
    key = (ctx.intent or "").partition("/")[2]
    entry = knowledge_base().get(key)
    # asked in the middle of a request, which resumes: no other service is offered by number
    in_request = Dialogue.load(ctx.state).flow is not None
    ctx.state.clear()
    if entry is None:
        ctx.action = "faq_unknown"
        ctx.reply("这个问题我还答不好。您可以回复“转人工”，请社区工作人员为您解答。")
        return
    ctx.action = f"faq:{key}"
    text = f"{entry.answer}\n{entry.next}"
    offered = entry.offer and (
        offered_handler(entry.offer.intent) or offered_form(entry.offer.intent)
    )
    ctx.state.update(flow="faq_offer", key=key, question=ctx.text[:200])
    if entry.offer and offered and not in_request:
        ctx.state["intent"] = entry.offer.intent
        text += f"\n回复 1 {entry.offer.label}；还有其他问题可以直接问我。"
    ctx.reply(text)


UNSURE = frozenset({"nlu_fallback", "out_of_scope", "greet", "affirm", "deny"})


def _follow_up_question(ctx: Context) -> bool:
    """A question right after an answer that the NLU cannot place: it is about that answer."""
    parse = ctx.parse
    if not is_question(ctx.text):
        return False
    return parse is None or parse.intent in UNSURE or parse.confidence < ctx.services.min_confidence


@intent("flow:faq_offer")
async def take_offer(ctx: Context) -> bool:
    """ "1" (or a yes) after an answer starts the offered service as if it had been asked for.

    A follow-up question the NLU cannot place ("外省户口能在这办不") is answered from the
    same entry, which says more than its first line.
    """
    key = str(ctx.state.get("key", ""))
    entry = knowledge_base().get(key)
    if entry is not None and _follow_up_question(ctx):
        ctx.action = f"faq:{key}"
        ctx.reply(f"{entry.answer}\n{entry.next}")
        return True
    if choice_number(ctx.text) != 1 and read_answer(ctx.text).kind is not AnswerKind.YES:
        return False
    name = str(ctx.state.get("intent", ""))
    question = str(ctx.state.get("question") or ctx.text)
    handler, form = offered_handler(name), offered_form(name)
    ctx.state.clear()
    if handler is None and form is None:
        return False
    ctx.text = question
    ctx.parse = ParseResult(text=question, intent=name, confidence=1.0)
    if form is not None:
        await _registry().engine.start(ctx, form)
    elif handler is not None:
        await handler(ctx)
    return True
