"""The task card a notice may carry: stored with the outbound message, shown where a platform can.

Handlers build it (handlers/ticket_notices.py), the outbox keeps it in the message's JSON
column (as_json), and a connector that shows cards reads it back (from_json).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TaskCard:
    """A task shown as a card where the platform has one: title, a few lines, a link, a button.

    It travels with the outbound message as data (the message's text stays the full notice,
    for platforms without cards and for the record).
    """

    title: str
    description: str
    url: str
    button: str = "详情"

    def as_json(self) -> dict[str, str]:
        """The card as stored in the outbox's JSON column."""
        return {
            "title": self.title,
            "description": self.description,
            "url": self.url,
            "button": self.button,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> TaskCard | None:
        """The card read back from the outbox (None when the message has none)."""
        if not data:
            return None
        return cls(
            title=str(data["title"]),
            description=str(data["description"]),
            url=str(data["url"]),
            button=str(data.get("button") or "详情"),
        )
