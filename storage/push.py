"""Pushes: messages the bot starts itself (to a worker, a partner unit, another resident)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from storage.community import PartnerUnit, Worker
from storage.messages import Message, record_outbound
from storage.residents import Resident, get_or_create_conversation

log = logging.getLogger(__name__)


async def push(
    session: AsyncSession,
    *,
    platform: str,
    user_id: str,
    text: str,
    action: str,
    chat_id: str | None = None,
) -> Message:
    """Queue a message to a platform user's direct chat (or a group chat) in this transaction.

    It goes out through the outbox like a reply: after commit, in order, retried, sent once.
    """
    conversation = await get_or_create_conversation(
        session, platform, chat_id or user_id, user_id, is_group=chat_id not in (None, user_id)
    )
    return record_outbound(
        session,
        conversation_id=conversation.id,
        platform=platform,
        text=text,
        reply_to_id=None,
        action=action,
    )


async def push_to_resident(
    session: AsyncSession, resident: Resident, text: str, action: str
) -> Message:
    """Tell a resident something in their direct chat on the platform they came from."""
    return await push(
        session,
        platform=resident.platform,
        user_id=resident.platform_user_id,
        text=text,
        action=action,
    )


async def push_to_worker(
    session: AsyncSession, worker: Worker, text: str, action: str
) -> Message | None:
    """Send a task or notice to a worker; None (logged) when they have no chat identity."""
    if not worker.platform or not worker.platform_user_id:
        log.warning(
            "worker %s (%s) has no chat identity; push %s not sent", worker.id, worker.name, action
        )
        return None
    return await push(
        session,
        platform=worker.platform,
        user_id=worker.platform_user_id,
        text=text,
        action=action,
    )


async def push_to_unit(
    session: AsyncSession, unit: PartnerUnit, text: str, action: str
) -> Message | None:
    """Notify a partner unit on its chat identity; None (logged) when it has none."""
    if not unit.platform or not unit.platform_user_id:
        log.info("partner unit %s has no chat identity; %s recorded only", unit.name, action)
        return None
    return await push(
        session,
        platform=unit.platform,
        user_id=unit.platform_user_id,
        text=text,
        action=action,
    )
