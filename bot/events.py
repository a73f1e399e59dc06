"""Linli's own message type: what every connector turns a platform's message into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class InboundEvent:
    """A resident's message, platform details removed."""

    platform: str
    message_id: str
    user_id: str
    chat_id: str
    text: str
    timestamp: datetime
    user_name: str | None = None
    is_group: bool = False
    mentioned: bool = False
    # Media ids, picture/link URLs or geo: URIs the message carried (not stored yet).
    attachments: tuple[str, ...] = ()

    @property
    def addressed_to_bot(self) -> bool:
        """Direct messages always are; in a group chat only when the bot is mentioned."""
        return not self.is_group or self.mentioned


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
