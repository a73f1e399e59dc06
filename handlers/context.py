"""What a handler is given for one resident message, and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.commands import Command
from nlu.client import ParseResult
from storage.community import Worker
from storage.residents import Conversation, Resident


@dataclass(frozen=True)
class CategoryRule:
    """How tickets of a category are routed and how fast they must move (config.yml)."""

    label: str
    accept_minutes: int
    resolve_hours: float
    urgent: bool = False
    route: str = "grid"  # grid: the grid's worker; staff: community staff

    def resolve_within(self) -> str:
        """The resolve time as residents are told it: 3天, 2小时."""
        hours = self.resolve_hours
        return f"{round(hours / 24)}天" if hours >= 24 else f"{round(hours)}小时"


@dataclass(frozen=True)
class Services:
    """Structure from config.yml that handlers need (categories, labels, timings)."""

    community: str
    category_labels: dict[str, str]
    urgent_categories: frozenset[str]
    report_intents: dict[str, str]
    min_confidence: float
    categories: dict[str, CategoryRule] = field(default_factory=dict)
    public_url: str = ""  # where workers' task-page links point (LINLI_PUBLIC_URL)
    link_key: bytes = b""  # signs those links (LINLI_SECRET_KEY); empty: no links
    group_min_confidence: float = 0.8  # unmentioned group messages: report intents this sure
    retention_days: int = 0  # message texts older than this are erased (0: kept)
    report_min_confidence: float = 0.3  # a report may start on a reading this sure
    abandon_minutes: int = 20  # a request quiet this long is followed up (twice: filed)


@dataclass
class Context:
    """One turn of a conversation: the message, its parse, the state, and the replies.

    worker is set when the sender is a known grid worker or staff member (their commands).
    """

    session: AsyncSession
    services: Services
    conversation: Conversation
    resident: Resident
    message_id: int
    text: str
    parse: ParseResult | None
    now: datetime
    state: dict[str, Any] = field(default_factory=dict)
    worker: Worker | None = None
    command: Command | None = None
    replies: list[str] = field(default_factory=list)
    action: str | None = None

    def reply(self, text: str) -> None:
        """Queue a reply to the resident (sent after the turn is committed)."""
        self.replies.append(text)

    @property
    def intent(self) -> str | None:
        """The predicted intent, or None when NLU was not consulted."""
        return self.parse.intent if self.parse else None

    def entity(self, name: str) -> str | None:
        """The first value of an entity in this message, if NLU found one."""
        if self.parse is None:
            return None
        for ent in self.parse.entities:
            if ent.entity == name and ent.value.strip():
                return ent.value.strip()
        return None
