"""NLU review's one staff action: give an inbound message the intent it really had."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.errors import Conflict, Invalid, NotFound
from handlers.retention import ERASED
from nlu.contract import known_intents
from storage.accounts import audit
from storage.messages import Message
from storage.nlu_review import correct


async def relabel(session: AsyncSession, message_id: int | None, intent: str, by: str) -> Message:
    """Record the right intent for a message, audited.

    Invalid("intent") unless the NLU contract knows it; NotFound unless an inbound message
    has the id (None: no row can); Conflict when retention has erased its text.
    """
    if intent not in known_intents():
        raise Invalid("intent", f"unknown intent {intent!r}; see the NLU contract")
    message = await session.get(Message, message_id) if message_id else None
    if message is None or message.direction != "in":
        raise NotFound("no such inbound message")
    if message.text in (None, ERASED):
        raise Conflict("this message's text has been erased (retention)")
    await correct(session, message, intent, by)
    audit(session, by, "relabel", f"message:{message.id}", intent)
    return message
