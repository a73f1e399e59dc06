"""One message as the engine reads it: the text, its NLU parse, the answer it gives, the request."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from handlers.context import Context
from handlers.engine.answers import Answer, read_answer
from handlers.engine.state import CurrentItem, Dialogue, FlowState, iso
from nlu.normalize import normalize
from nlu.places import Place, find_place
from nlu.understand import place_of


@dataclass
class Turn:
    """A message inside a request: what the resident wrote, read every way a slot may need."""

    ctx: Context
    dialogue: Dialogue
    flow: FlowState
    filled: dict[str, object] = field(default_factory=dict)  # slots this message set
    focus: str | None = None  # read only this part (what a correction says after 不对)

    @property
    def text(self) -> str:
        """The message as the resident wrote it (or the part in focus)."""
        return self.ctx.text if self.focus is None else self.focus

    @cached_property
    def plain(self) -> str:
        """The text normalised (simplified characters, half-width digits)."""
        return normalize(self.text).text

    def focused(self, text: str) -> Turn:
        """The same turn reading only part of the message."""
        return Turn(self.ctx, self.dialogue, self.flow, self.filled, focus=text)

    @property
    def intent(self) -> str | None:
        """The NLU intent, or None when NLU was not asked (a number, a command)."""
        return self.ctx.parse.intent if self.ctx.parse else None

    @property
    def confidence(self) -> float:
        """How sure the NLU is of the intent (0 when not asked)."""
        return self.ctx.parse.confidence if self.ctx.parse else 0.0

    @cached_property
    def answer(self) -> Answer:
        """How the message answers the bot's question (yes, no, withdraw, correction, none)."""
        return read_answer(self.ctx.text, self.intent, self.confidence)

    def entity(self, name: str) -> str | None:
        """The first value of an NLU entity in the text read."""
        value = self.ctx.entity(name)
        if value is None or (self.focus is not None and value not in self.focus):
            return None
        return value

    def spans(self, name: str) -> list[tuple[int, int]]:
        """Where NLU marked an entity in the text read."""
        if self.ctx.parse is None or self.focus is not None:
            return []
        return [(e.start, e.end) for e in self.ctx.parse.entities if e.entity == name]

    @cached_property
    def place(self) -> Place | None:
        """The place the text names, in full as said (read once, by nlu/understand.py)."""
        if self.focus is not None:
            return find_place(self.text)
        return place_of(self.ctx.text, self.ctx.parse)

    def remember(self, kind: str, number: str) -> None:
        """Keep what this request made as the conversation's current item (rule 6)."""
        self.dialogue.item = CurrentItem(kind, number, iso(self.ctx.now), self.flow.form)
