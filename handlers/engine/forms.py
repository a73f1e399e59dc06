"""Forms as data: the slots a service needs, how each is read from a message, and its ending.

A service declares one Form. The engine (handlers/engine/runner.py) runs every form the
same way on every message: interrupts, fill every slot the message gives, corrections,
questions in between, then the next missing slot, the confirmation or the completion.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from handlers.engine.answers import Answer
from handlers.engine.choices import Option
from handlers.engine.details import is_question
from handlers.engine.state import SlotValue

if TYPE_CHECKING:
    from handlers.engine.turn import Turn


@dataclass(frozen=True)
class Accept:
    """A slot value that passed validation (possibly normalised)."""

    value: SlotValue


@dataclass(frozen=True)
class Refuse:
    """A value that cannot be used, and what to tell the resident (what there is instead)."""

    reply: str


Verdict = Accept | Refuse
# Reads a slot's value from the message (None: the message does not give it); one that
# needs to look things up (the stations, the open sessions) may be async.
Extractor = Callable[["Turn"], SlotValue | Awaitable[SlotValue]]
Validator = Callable[["Turn", SlotValue], Awaitable[Verdict]]
Options = Callable[["Turn"], Awaitable[Sequence[Option]]]
Prompt = Callable[["Turn"], Awaitable[str]]
Condition = Callable[["Turn"], bool]


def always(turn: Turn) -> bool:
    """A condition that always holds."""
    return True


def never(turn: Turn) -> bool:
    """A condition that never holds."""
    return False


@dataclass(frozen=True)
class OnSilence:
    """A request left in the middle is filed as a ticket of this category (and place)."""

    category: str
    location: str | None = None


@dataclass(frozen=True)
class Slot:
    """One piece of a request: how it is read, asked for, checked and shown."""

    name: str
    label: str  # how the bot names it to the resident (地点, 时间, 为谁)
    prompt: str | Prompt  # one short line with an example
    extract: Sequence[Extractor] = ()  # tried on every message, first value wins
    when_asked: Sequence[Extractor] = ()  # tried too when this slot was the question asked
    options: Options | None = None  # a choice slot: the options offered (by number or name)
    validate: Validator | None = None
    required: Condition = always  # whether the request needs it (may depend on other slots)
    show: Callable[[Turn, SlotValue], str] | None = None  # the value in a summary
    merge: Callable[[SlotValue, SlotValue], SlotValue] | None = None  # old + correction
    # slots that depend on this one: emptied when its value changes (a new day empties the
    # session chosen for the old one), to be read again from the message or asked
    resets: tuple[str, ...] = ()
    # a later message adds to it whenever it gives it, asked or not (周四, then 下午吧),
    # through merge; other filled slots change only when asked, corrected or confirmed
    refine: bool = False

    def shown(self, turn: Turn, value: SlotValue) -> str:
        """The value as the confirmation shows it."""
        if self.show is not None:
            return self.show(turn, value)
        return "" if value is None else str(value)


Complete = Callable[["Turn"], Awaitable[None]]
Summary = Callable[["Turn"], Awaitable[str]]


@dataclass(frozen=True)
class Form:
    """A service's request: its slots in asking order, its confirmation and its completion."""

    name: str
    intents: tuple[str, ...]  # the NLU intents that start it
    slots: tuple[Slot, ...]
    complete: Complete
    summary: Summary | None = None  # the confirmation line; None: completes without asking
    skip_confirmation: Condition = never  # e.g. an urgent report with its place
    on_start: Callable[[Turn], Awaitable[None]] | None = None  # e.g. gas safety advice first
    withdrawn: str = "好的，这件事先不办了。还有需要随时告诉我。"
    title: str = ""  # how the request is named to the resident (康复预约, 报修): follow-ups
    # may start on a weaker NLU reading (dialogue.report_min_confidence instead of
    # min_confidence): its summary shows what was understood, so a wrong guess is corrected
    lenient_start: bool = False
    # a yes said with the answer to the last choice shown ("九点那个 对") completes at once
    # when nothing else is missing (the completion repeats what was agreed)
    choice_with_yes_completes: bool = False
    # a yes said with the answer to the last missing piece ("对 我叫刘玉珍", "13344445555 对")
    # completes at once: residents take that as sent. Off where the summary must be seen
    # first (a wish's text is shown in public)
    answer_with_yes_completes: bool = True
    # answered in the middle, then the request resumes (faq, check_status …)
    answers_between: frozenset[str] = frozenset({"faq", "check_status", "greet", "out_of_scope"})
    description_slot: str | None = None  # free words that fill no slot are added here
    # the answer to a question about the request itself (投诉了会不会影响服务？ 在哪儿？), or
    # None; it may look things up (async). Answered before another intent's answer, and
    # also when the same message gave a piece of the request (rule 7)
    answers: Callable[[Turn], str | Awaitable[str | None] | None] | None = None
    # what silence in the middle leads to (handlers/silence.py): None tells staff what
    # was asked; a function gives the ticket to file (category, place) when one is due
    silence: Callable[[Turn], OnSilence | None] | None = None
    # how this request reads an answer (None: handlers.engine.answers.read_answer); e.g. a
    # cancellation, where "对 取消" and "不去了" agree with it rather than withdraw it
    read_answer: Callable[[Turn], Answer] | None = None
    # policy questions of this service asked in the middle, by FAQ key and the words that
    # name them: answered (and the request resumed) when the NLU was unsure ("要交钱不？")
    questions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # a message the NLU was unsure of that names this service in its own words starts it
    recognises: Callable[[str], bool] | None = None
    # a message another service's intent reads surely that is a detail of this request
    # ("她有残疾证 肢体二级" while applying for her wheelchair): kept, and the request goes on
    detail_of_request: Condition | None = None

    def question_key(self, text: str) -> str | None:
        """The FAQ key of this service's policy question the text asks, if it asks one."""
        if not self.questions or not is_question(text):
            return None
        return next((key for key, words in self.questions if any(w in text for w in words)), None)

    def slot(self, name: str) -> Slot:
        """The slot of this name."""
        for slot in self.slots:
            if slot.name == name:
                return slot
        raise KeyError(name)
