"""Linli's own message type: what every connector turns a platform's message into."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
