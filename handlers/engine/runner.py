"""The one slot-filling engine: every form, every message, in the same order.

Order of a message inside a request:

1. withdrawal ("不用了 物业修好了", "先不弄了") ends it and says so;
2. every slot the message gives is filled, whichever question was asked; a correction
   ("不对，是西门") or an answer at the confirmation replaces a filled slot;
3. a different confident intent that filled nothing is answered (FAQ, status …) and the
   request resumes with its question, or it starts the other request (a new report, gas);
4. then the next missing slot is asked, or the summary confirmed, or the request completed.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import timedelta

from handlers.context import Context
from handlers.dialogue import ASKED_AGAIN
from handlers.engine.answers import (
    AnswerKind,
    ends_with_yes,
    is_thanks_only,
    read_answer,
    turns_to_another_matter,
)
from handlers.engine.choices import Match, Option, choice_number, match_option
from handlers.engine.details import is_question
from handlers.engine.forms import Accept, Form, Refuse, Slot
from handlers.engine.state import (
    ASIDE,
    CONFIRM,
    RESUMED_AFTER,
    URGENT,
    WITHDRAWN,
    Dialogue,
    FlowState,
    SlotValue,
    iso,
    parse_iso,
)
from handlers.engine.turn import Turn
from nlu.client import ParseResult
from nlu.timeparse import time_words

log = logging.getLogger(__name__)

# How sure the NLU must be of another intent before a message that fills nothing is read
# as that intent rather than as an answer (see docs/conversation.md). Measured on the old
# held-out file (2026-11-28): of the top intents at >= 0.7, 2 of about 280 were wrong.
OTHER_INTENT_CONFIDENCE = 0.7
MAX_OPTIONS = 4  # numbered options shown at once (conversation.md rule 10)
MAX_SAID = 20
URGENT_INTENTS = frozenset({"report_gas"})
# What an urgent report takes over from the request it interrupts: the place already said
# ("她家门口闻到煤气味" while applying for her home care is at her address).
CARRIED = frozenset({"location"})
HANDOFF_INTENTS = frozenset({"human_handoff"})
OFFER_PERSON = "也可以回复“转人工”，请工作人员帮您。"
PAUSED_MINUTES = 60  # how long a request set aside can be taken up again
RESUME_CONFIDENCE = 0.3  # its own intent this sure takes up a request an urgent report interrupted
RESUME_WORDS = re.compile(
    r"还是[约办报要弄申]|接着[约办报弄申说]|继续[约办报弄申]|那个还[约办要报]|还[约要]着|等等"
)
AnswerOther = Callable[[Context], Awaitable[None]]
ItemNews = Callable[[Context], Awaitable[bool]]


def _family(intent: str | None) -> str:
    return (intent or "").split("/", 1)[0]


class Engine:
    """Runs the declared forms; the router hands it every message of a request."""

    def __init__(self, forms: Iterable[Form]) -> None:
        self.forms: dict[str, Form] = {}
        self.by_intent: dict[str, Form] = {}
        for form in forms:
            if form.name in self.forms:
                raise ValueError(f"form {form.name!r} declared twice")
            self.forms[form.name] = form
            for intent in form.intents:
                if intent in self.by_intent:
                    raise ValueError(f"intent {intent!r} starts two forms")
                self.by_intent[intent] = form

    def form_for(self, intent: str | None) -> Form | None:
        """The form an intent starts, if any."""
        return self.by_intent.get(intent or "")

    def form_recognising(self, text: str) -> Form | None:
        """The form whose own words the text uses (for a message the NLU was unsure of)."""
        return next((f for f in self.forms.values() if f.recognises and f.recognises(text)), None)

    def in_request(self, ctx: Context) -> bool:
        """True while a request of this engine waits for the resident."""
        flow = Dialogue.load(ctx.state).flow
        return flow is not None and flow.form in self.forms

    def drop_request(self, ctx: Context) -> None:
        """Forget the request in progress (a person takes over; what was said stays stored)."""
        dialogue = Dialogue.load(ctx.state)
        if dialogue.flow is not None:
            dialogue.flow = None
            dialogue.store(ctx.state)

    async def start(
        self, ctx: Context, form: Form, carried: Mapping[str, SlotValue] | None = None
    ) -> None:
        """Begin a request from its first message: keep all it says, ask for the rest.

        carried: values kept from the request this one interrupts (the place already said),
        for what the message itself does not say.
        """
        dialogue = Dialogue.load(ctx.state)
        now = iso(ctx.now)
        dialogue.flow = FlowState(form=form.name, started_at=now, updated_at=now)
        turn = Turn(ctx, dialogue, dialogue.flow)
        _note_said(turn)
        if form.on_start is not None:
            await form.on_start(turn)
        await self._fill(turn, form, overwrite=False)
        slots = {slot.name for slot in form.slots}
        for name, value in (carried or {}).items():
            if name in slots and dialogue.flow is not None:
                dialogue.flow.values.setdefault(name, value)
        if turn.flow is dialogue.flow and dialogue.flow is not None:
            await self._answer_question(turn, form)
            await self._next(turn, form)
        dialogue.store(ctx.state)

    async def take(
        self, ctx: Context, answer_other: AnswerOther, about_item: ItemNews | None = None
    ) -> bool:
        """Take a message inside a request; False when it leaves the request for the router.

        about_item: gives a message to the item just made (True when it took it): news for
        an urgent ticket said in the request that went on after it ("窗户开了 阀门也关了").
        """
        dialogue = Dialogue.load(ctx.state)
        flow = dialogue.flow
        if flow is None or flow.form not in self.forms:
            return False
        form = self.forms[flow.form]
        turn = Turn(ctx, dialogue, flow)
        if form.read_answer is not None:
            turn.answer = form.read_answer(turn)  # the request reads its answers its own way
        flow.updated_at = iso(ctx.now)
        handled = await self._take(turn, form, answer_other, about_item)
        if handled:
            dialogue.store(ctx.state)
        return handled

    async def _take(
        self,
        turn: Turn,
        form: Form,
        answer_other: AnswerOther,
        about_item: ItemNews | None = None,
    ) -> bool:
        ctx, flow = turn.ctx, turn.flow
        sure = turn.confidence >= OTHER_INTENT_CONFIDENCE
        answer = turn.answer
        handoff = turn.intent in HANDOFF_INTENTS and sure
        urgent = self.form_for(turn.intent) if turn.intent in URGENT_INTENTS and sure else None
        if urgent is form:
            urgent = None
        if handoff or urgent is not None:
            carried = {k: v for k, v in flow.values.items() if k in CARRIED and v is not None}
            if flow.asking == CONFIRM and answer.kind is AnswerKind.YES:
                await self._complete(turn, form)  # the yes first: nothing agreed is lost
            if urgent is not None and turn.dialogue.flow is flow:
                self._pause(turn, URGENT)  # the urgent report first; this request waits
            self._end(turn)
            turn.dialogue.store(ctx.state)
            if urgent is None:
                return False
            await self._start_other(turn, urgent, carried)
            return True
        if answer.kind is AnswerKind.WITHDRAW:
            self._pause(turn, WITHDRAWN)  # kept a while: "还是约吧" takes it up again
            ctx.action = f"{form.name}_withdrawn"
            ctx.reply(form.withdrawn)
            return True
        other = self.form_for(turn.intent) if sure else None
        if (
            other is not None
            and other is not form
            and answer.kind is AnswerKind.NONE
            and turns_to_another_matter(turn.text)
        ):
            # "对了 先说个事 我爸楼下路灯坏了 …": that request now, this one taken up after
            return await self._set_aside_for(turn, other)
        _note_said(turn)
        at_confirm = flow.asking == CONFIRM
        asked = flow.asking
        shown = asked is not None and bool(flow.offered.get(asked))  # options were on screen
        changed: list[str] = []
        if answer.kind is AnswerKind.CORRECTION and answer.rest:
            changed = await self._fill(turn.focused(answer.rest), form, overwrite=True)
            if not changed:
                changed = await self._fill(turn, form, overwrite=True)
            # a correction that fills a piece the summary showed by default (您本人) changes it
            changed = changed or [name for name, value in turn.filled.items() if value is not None]
        else:
            changed = await self._fill(turn, form, overwrite=at_confirm)
        if turn.dialogue.flow is not flow:
            return True  # a slot's validation ended or replaced the request
        if not turn.filled and await self._policy_question(turn, form, answer_other):
            return True
        agreed = flow.asking == CONFIRM and self._missing(turn, form) is None
        if at_confirm and agreed and answer.kind is AnswerKind.YES:
            # a yes is a yes whatever follows it: "对 后天上午" agrees, with the detail kept
            await self._complete(turn, form)
            return True
        if at_confirm and not changed:
            thanks = turn.intent == "thank" and answer.kind is AnswerKind.NONE
            # what the summary asked for, then the yes: 东关北街5号 13512340000 对
            yes_last = (
                answer.kind is AnswerKind.NONE
                and ends_with_yes(turn.text)
                and not is_question(turn.text)
            )
            if is_thanks_only(turn.text) or thanks or yes_last:
                await self._complete(turn, form)
                return True
            if answer.kind in (AnswerKind.NO, AnswerKind.CORRECTION) and not turn.filled:
                await self._ask_what_to_change(turn, form)
                return True
        if turn.filled:
            flow.misunderstood = 0
            if not at_confirm and self._agreed_with_answer(turn, form, asked, shown):
                await self._complete(turn, form)  # "九点那个 对", "对 我叫刘玉珍"
                return True
            await self._answer_question(turn, form)
            await self._next(turn, form)
            return True
        if await self._other_intent(turn, form, answer_other):
            return True
        if is_question(turn.text):
            # answered by the form when it can, else said so with a person offered (rule 7)
            ctx.action = f"{form.name}_question"
            again = await self._question(turn, form, again=True)
            known = await _form_answer(turn, form)
            ctx.reply(f"{known or '这个我答不准，想问工作人员可以回复“转人工”。'}\n{again}")
            return True
        if (
            answer.kind is AnswerKind.YES
            and not answer.rest
            and asked not in (None, CONFIRM)
            and not shown  # a yes to options shown is taken as "any will do" by the next step
        ):
            # a bare yes to an open question ("对" to "住在哪里？"): the piece is still missing
            await self._still_missing(turn, form)
            return True
        if turn.intent in form.intents or (answer.kind is AnswerKind.YES and not at_confirm):
            # more about the same request, or a plain yes to a question: go on
            await self._next(turn, form)
            return True
        if about_item is not None and await self._news_for_urgent_item(turn, form, about_item):
            return True
        await self._misunderstood(turn, form)
        return True

    async def _news_for_urgent_item(self, turn: Turn, form: Form, about_item: ItemNews) -> bool:
        """A weak reading of the urgent report just filed that fills nothing here is news for
        its ticket (rule 9): the ticket takes it, then this request's question again."""
        item = turn.dialogue.item
        if item is None or item.kind != "ticket":
            return False
        if turn.intent not in URGENT_INTENTS:
            return False
        if parse_iso(item.made_at) < turn.ctx.now - timedelta(minutes=PAUSED_MINUTES):
            return False
        if not await about_item(turn.ctx):
            return False
        turn.ctx.reply(await self._question(turn, form, again=True))
        return True

    async def _other_intent(self, turn: Turn, form: Form, answer_other: AnswerOther) -> bool:
        """A confident other intent: answer it and resume, or leave for another request."""
        intent, ctx = turn.intent, turn.ctx
        if intent is None or turn.confidence < OTHER_INTENT_CONFIDENCE:
            return False
        if intent in form.intents or intent in {"affirm", "deny"}:
            return False
        if form.detail_of_request is not None and form.detail_of_request(turn):
            await self._next(turn, form)  # said is kept (flow.said): the ticket carries it
            return True
        if _family(intent) in form.answers_between or intent in form.answers_between:
            await self._answer_between(turn, form, answer_other)
            return True
        if intent == "thank":
            ctx.action = f"{form.name}_thanks"
            ctx.reply("不客气。" + await self._question(turn, form, again=True))
            return True
        other = self.form_for(intent)
        if other is not None:
            return await self._set_aside_for(turn, other)
        return False

    async def _set_aside_for(self, turn: Turn, other: Form) -> bool:
        """Another request said in the middle: it starts now, this one resumes after it."""
        ctx = turn.ctx
        if turn.flow.values:
            self._pause(turn, ASIDE)
        else:
            self._end(turn)
        turn.dialogue.store(ctx.state)
        await self._start_other(turn, other)
        return True

    async def _start_other(
        self, turn: Turn, other: Form, carried: Mapping[str, SlotValue] | None = None
    ) -> None:
        """Start another request from this message; the turn's dialogue follows it."""
        await self.start(turn.ctx, other, carried)
        started = Dialogue.load(turn.ctx.state)
        turn.dialogue.flow, turn.dialogue.item = started.flow, started.item
        turn.dialogue.paused, turn.dialogue.paused_by = started.paused, started.paused_by

    async def _answer_question(self, turn: Turn, form: Form) -> bool:
        """A question asked with a piece of the request, answered by the form before its next
        question ("健康操在哪做啊 我想报名")."""
        if form.answers is None or not is_question(turn.text):
            return False
        other = self.form_for(turn.intent)
        if other is not None and other is not form and turn.confidence >= OTHER_INTENT_CONFIDENCE:
            return False  # a sure other request, worded as a question
        reply = await _form_answer(turn, form)
        if not reply:
            return False
        turn.ctx.action = f"{form.name}_question"
        turn.ctx.reply(reply)
        return True

    async def _answer_between(self, turn: Turn, form: Form, answer_other: AnswerOther) -> None:
        """Answer another question (FAQ, status …), then ask this request's question again."""
        ctx = turn.ctx
        saved = Dialogue.load(ctx.state)
        saved.flow = turn.flow
        await answer_other(ctx)
        for key in [k for k in ctx.state if k != "dialogue"]:
            ctx.state.pop(key)  # the other answer may not start its own step machine
        saved.store(ctx.state)
        turn.dialogue.item = saved.item
        ctx.reply(await self._question(turn, form, again=True))

    async def _policy_question(self, turn: Turn, form: Form, answer_other: AnswerOther) -> bool:
        """A policy question of this service the NLU was unsure of ("要交钱不？"): answered."""
        key = form.question_key(turn.text)
        if key is None or turn.answer.kind is AnswerKind.YES:
            return False
        if _family(turn.intent) == "faq" and turn.confidence >= OTHER_INTENT_CONFIDENCE:
            return False  # the NLU knows which question it is: answered as any other
        ctx = turn.ctx
        parse = ctx.parse
        ctx.parse = ParseResult(text=ctx.text, intent=f"faq/{key}", confidence=1.0)
        try:
            await self._answer_between(turn, form, answer_other)
        finally:
            ctx.parse = parse
        return True

    async def _fill(self, turn: Turn, form: Form, *, overwrite: bool) -> list[str]:
        """Fill every slot the text gives; the names of filled slots whose value changed."""
        changed: list[str] = []
        flow = turn.flow
        for slot in form.slots:
            if turn.dialogue.flow is not flow:
                break
            value = await self._read_slot(turn, slot, form)
            if value is None:
                continue
            old = flow.values.get(slot.name)
            if old is not None and not (overwrite or flow.asking == slot.name or slot.refine):
                continue
            if old is not None and slot.merge is not None:
                value = slot.merge(old, value)
            verdict: Accept | Refuse = Accept(value)
            if slot.validate is not None:
                verdict = await slot.validate(turn, value)
            if isinstance(verdict, Refuse):
                if verdict.reply:
                    turn.ctx.reply(verdict.reply)
                flow.asking = slot.name
                turn.filled[slot.name] = None
                continue
            if verdict.value == old:
                continue
            flow.values[slot.name] = verdict.value
            turn.filled[slot.name] = verdict.value
            for name in slot.resets:  # what depended on the old value is read or asked anew
                flow.values.pop(name, None)
                flow.offered.pop(name, None)
            if old is not None:
                changed.append(slot.name)
        return changed

    def _agreed_with_answer(self, turn: Turn, form: Form, asked: str | None, shown: bool) -> bool:
        """A yes said with the answer to the last missing piece, the one asked for.

        A choice among options shown ("九点那个 对": the resident saw what they chose) needs
        `choice_with_yes_completes`; any other answer ("对 我叫刘玉珍", "13344445555 对")
        `answer_with_yes_completes` and a yes in words, not the NLU's affirm of the answer
        ("电话就用我这个"). Never when the message filled another required piece too (then
        the summary shows what was read).
        """
        if asked is None or asked == CONFIRM or turn.answer.kind is not AnswerKind.YES:
            return False
        if form.summary is None or turn.filled.get(asked) is None:
            return False
        if shown:
            if not form.choice_with_yes_completes or form.slot(asked).options is None:
                return False
            if choice_number(turn.text) is not None and not time_words(turn.text):
                return False  # "1" picks the first option; it does not also say yes (12号 a day)
        else:
            if not form.answer_with_yes_completes or choice_number(turn.text) is not None:
                return False
            if read_answer(turn.text).kind is not AnswerKind.YES or form.skip_confirmation(turn):
                return False
        if self._missing(turn, form) is not None:
            return False
        required = {s.name for s in form.slots if s.required(turn)}
        return all(name == asked for name in turn.filled if name in required)

    async def _read_slot(self, turn: Turn, slot: Slot, form: Form) -> SlotValue:
        asked = turn.flow.asking == slot.name
        for extractor in (*slot.extract, *(slot.when_asked if asked else ())):
            value = extractor(turn)
            if inspect.isawaitable(value):
                value = await value
            if value is not None and value != "":
                return value
        if slot.options is None or _asks_other(turn, form):
            return None
        options = await slot.options(turn)
        offered = turn.flow.offered.get(slot.name)
        shown = [o for o in options if offered is None or o.key in offered]
        if offered:
            shown.sort(key=lambda o: offered.index(o.key))
        match = match_option(turn.text, shown if asked and shown else options, numbered=asked)
        if match.option is None and asked and shown is not options:
            match = match_option(turn.text, options, numbered=False)
        return _chosen(turn, slot, match)

    async def _next(self, turn: Turn, form: Form) -> None:
        """Ask for the next missing slot, or confirm, or complete."""
        if turn.dialogue.flow is not turn.flow:
            return
        missing = self._missing(turn, form)
        if missing is not None:
            turn.flow.asking = missing.name
            turn.ctx.action = f"{form.name}_ask_{missing.name}"
            turn.ctx.reply(await self._question(turn, form))
            return
        if form.summary is None or form.skip_confirmation(turn):
            await self._complete(turn, form)
            return
        turn.flow.asking = CONFIRM
        turn.ctx.action = f"{form.name}_confirm"
        turn.ctx.reply(await form.summary(turn))

    def _missing(self, turn: Turn, form: Form) -> Slot | None:
        for slot in form.slots:
            if slot.required(turn) and turn.flow.values.get(slot.name) is None:
                return slot
        return None

    async def _question(self, turn: Turn, form: Form, *, again: bool = False) -> str:
        """The question for the slot being asked (with its options), or the summary again."""
        flow = turn.flow
        if flow.asking == CONFIRM and form.summary is not None:
            return await form.summary(turn)
        slot = form.slot(flow.asking) if flow.asking else self._missing(turn, form)
        if slot is None:
            return ""
        flow.asking = slot.name
        prompt = slot.prompt if isinstance(slot.prompt, str) else await slot.prompt(turn)
        if slot.options is None:
            return prompt
        options = list(await slot.options(turn))
        offered = flow.offered.get(slot.name)
        if again and offered:
            options = [o for o in options if o.key in offered] or options
        options = options[:MAX_OPTIONS]
        if not options:
            return prompt
        flow.offered[slot.name] = [o.key for o in options]
        lines = [f"{i} {o.name}" for i, o in enumerate(options, 1)]
        return "\n".join([prompt, "  ".join(lines)])

    async def _ask_what_to_change(self, turn: Turn, form: Form) -> None:
        """A no at the confirmation: ask the one slot shown, or which part to change."""
        shown = [s for s in form.slots if turn.flow.values.get(s.name) is not None]
        turn.ctx.action = f"{form.name}_change"
        if len(shown) == 1:
            turn.flow.asking = shown[0].name
            turn.ctx.reply(await self._question(turn, form))
            return
        labels = "、".join(s.label for s in shown[:4])
        turn.ctx.reply(f"哪里不对？直接告诉我正确的{labels}就行。")

    async def _still_missing(self, turn: Turn, form: Form) -> None:
        """Say which piece is still missing and ask for it; the second time, offer a person."""
        flow = turn.flow
        if flow.asking is None or self._missing(turn, form) is None:
            await self._next(turn, form)
            return
        flow.misunderstood += 1
        turn.ctx.action = f"{form.name}_ask_{flow.asking}"
        label = form.slot(flow.asking).label
        question = (await self._question(turn, form, again=True)).removeprefix("好的，")
        person = f"\n{OFFER_PERSON}" if flow.misunderstood >= 2 else ""
        turn.ctx.reply(f"好的，还差{label}。{question}{person}")

    async def _misunderstood(self, turn: Turn, form: Form) -> None:
        """Ask again with the example; the second time, a simpler question and a person."""
        flow = turn.flow
        flow.misunderstood += 1
        turn.ctx.action = ASKED_AGAIN
        question = await self._question(turn, form, again=True)
        if flow.misunderstood >= 2:
            turn.ctx.reply(f"不好意思，我没听明白。{question}\n{OFFER_PERSON}")
        else:
            turn.ctx.reply(question)

    async def _complete(self, turn: Turn, form: Form) -> None:
        flow = turn.flow
        await form.complete(turn)
        if turn.dialogue.flow is not flow:
            await self._resume(turn)
            return
        if self._missing(turn, form) is not None:
            # the completion emptied a slot (the place was taken meanwhile): ask for it again
            await self._next(turn, form)
            return
        turn.dialogue.flow = None
        await self._resume(turn)

    async def _resume(self, turn: Turn) -> None:
        """The request an urgent report interrupted goes on, with its question asked again."""
        paused, dialogue = turn.dialogue.paused, turn.dialogue
        if paused is None or dialogue.flow is not None or dialogue.paused_by not in RESUMED_AFTER:
            return
        dialogue.paused, dialogue.paused_by = None, ""
        form = self.forms.get(paused.form)
        if form is None:
            return
        dialogue.flow = paused
        question = await self._question(Turn(turn.ctx, dialogue, paused), form, again=True)
        turn.ctx.reply(f"刚才的事接着办。{question}")

    def _end(self, turn: Turn) -> None:
        turn.dialogue.flow = None

    def _pause(self, turn: Turn, why: str) -> None:
        turn.dialogue.paused, turn.dialogue.paused_by = turn.flow, why
        turn.dialogue.flow = None

    def resumes(self, ctx: Context) -> bool:
        """Take up the request set aside when this message comes back to it (into ctx.state).

        After an urgent report, the request's own intent comes back to it ("康复那个还约");
        after either, words of taking it up again do ("哎 等等 还是约吧").
        """
        dialogue = Dialogue.load(ctx.state)
        paused = dialogue.paused
        if paused is None or dialogue.flow is not None:
            return False
        form = self.forms.get(paused.form)
        fresh = parse_iso(paused.updated_at) > ctx.now - timedelta(minutes=PAUSED_MINUTES)
        if form is None or not fresh:
            dialogue.paused, dialogue.paused_by = None, ""
            dialogue.store(ctx.state)
            return False
        parse = ctx.parse
        own = parse is not None and parse.intent in form.intents
        back = (
            own
            and dialogue.paused_by in RESUMED_AFTER
            and parse is not None
            and parse.confidence >= RESUME_CONFIDENCE
        )
        if not (back or RESUME_WORDS.search(ctx.text)):
            return False
        dialogue.flow, dialogue.paused, dialogue.paused_by = paused, None, ""
        dialogue.store(ctx.state)
        return True


def _asks_other(turn: Turn, form: Form) -> bool:
    """A question the NLU is sure is answered elsewhere (FAQ, status): it chooses no option.

    "残疾人就业有啥扶持政策？" while asked which help is wanted names no option by its 就业.
    """
    sure = turn.confidence >= OTHER_INTENT_CONFIDENCE
    between = _family(turn.intent) in form.answers_between
    return sure and between and is_question(turn.text)


async def _form_answer(turn: Turn, form: Form) -> str | None:
    """The form's own answer to a question about the request, if it has one."""
    if form.answers is None:
        return None
    known = form.answers(turn)
    return await known if inspect.isawaitable(known) else known


def _note_said(turn: Turn) -> None:
    said = turn.flow.said
    text = turn.ctx.text.strip()
    if text and len(said) < MAX_SAID:
        said.append(text[:200])


def _chosen(turn: Turn, slot: Slot, match: Match) -> SlotValue:
    """The key of the option a message names; with several equal, offer just those."""
    if match.option is not None:
        return match.option.key
    if match.candidates:
        turn.flow.offered[slot.name] = [o.key for o in match.candidates[:MAX_OPTIONS]]
    return None


def option_names(options: Sequence[Option]) -> list[str]:
    """The names of options, for a reply saying what there is."""
    return [o.name for o in options]
