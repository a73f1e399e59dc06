"""Typed dialogue state: the request in progress and the item just made, versioned in Redis."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

STATE_VERSION = 1
STATE_KEY = "dialogue"  # where the engine keeps its state inside a conversation's state
CONFIRM = "confirm"  # FlowState.asking while the bot waits for a yes to its summary
URGENT, WITHDRAWN = "urgent", "withdrawn"  # why a request was set aside (Dialogue.paused)
ASIDE = "aside"  # set aside for another request said in between ("对了 先说个事 …")
RESUMED_AFTER = frozenset({URGENT, ASIDE})  # taken up again once the other one is done

SlotValue = str | int | list[str] | None


@dataclass
class FlowState:
    """One request being filled in: its form, the values so far, and what the bot asked last."""

    form: str
    started_at: str  # ISO time of the first message
    updated_at: str  # ISO time of the last message in this request
    values: dict[str, SlotValue] = field(default_factory=dict)
    asking: str | None = None  # the slot the last question asked for, or CONFIRM
    misunderstood: int = 0  # answers in a row that filled nothing and were not understood
    said: list[str] = field(default_factory=list)  # what the resident wrote in this request
    offered: dict[str, list[str]] = field(default_factory=dict)  # numbered options shown, by slot
    followed_up: bool = False  # the one follow-up after silence has gone out

    def get(self, slot: str) -> SlotValue:
        """The value of a slot, or None."""
        return self.values.get(slot)

    def text(self, slot: str) -> str:
        """The value of a slot as text ("" when unset)."""
        value = self.values.get(slot)
        return "" if value is None else str(value)


@dataclass
class CurrentItem:
    """The ticket, booking, order or wish this conversation made last (rule 6)."""

    kind: str  # ticket | booking | activity (a sign-up) | order | wish
    number: str  # as the resident sees it: 1021, Y1008, J1003, X1002
    made_at: str  # ISO time
    form: str = ""  # the form that made it


@dataclass
class Dialogue:
    """The engine's part of a conversation's state."""

    flow: FlowState | None = None
    item: CurrentItem | None = None
    version: int = STATE_VERSION
    # a request set aside: interrupted by an urgent report, or withdrawn; the resident may
    # come back to it (its intent after an interruption, 还是约吧 after either)
    paused: FlowState | None = None
    paused_by: str = ""  # URGENT, ASIDE or WITHDRAWN

    @classmethod
    def load(cls, state: dict[str, Any]) -> Dialogue:
        """Read the engine's state from a conversation state (an unknown version starts afresh)."""
        raw = state.get(STATE_KEY)
        if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
            return cls()
        flow = raw.get("flow")
        item = raw.get("item")
        paused = raw.get("paused")
        return cls(
            flow=FlowState(**flow) if isinstance(flow, dict) else None,
            item=CurrentItem(**item) if isinstance(item, dict) else None,
            paused=FlowState(**paused) if isinstance(paused, dict) else None,
            paused_by=str(raw.get("paused_by") or ""),
        )

    def store(self, state: dict[str, Any]) -> None:
        """Write the engine's state back into the conversation state (removed when empty)."""
        if self.flow is None and self.item is None and self.paused is None:
            state.pop(STATE_KEY, None)
            return
        state[STATE_KEY] = asdict(self)


def iso(moment: datetime) -> str:
    """A time as stored in the state."""
    return moment.isoformat()


def parse_iso(text: str) -> datetime:
    """A time read back from the state."""
    return datetime.fromisoformat(text)
