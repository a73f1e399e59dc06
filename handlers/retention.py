"""Retention: erase residents' message texts after the configured number of days."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Services
from handlers.jobs import periodic
from storage.messages import RECEIVED, Message
from storage.search import forget

ERASED = "（已按保存期限删除）"


@periodic(3600)
async def erase_old_texts(session: AsyncSession, services: Services, now: datetime) -> int:
    """Blank texts and NLU results of messages older than the retention period (hourly)."""
    if services.retention_days <= 0:
        return 0
    cutoff = now - timedelta(days=services.retention_days)
    due = (
        Message.created_at < cutoff,
        Message.text != ERASED,
        Message.status != RECEIVED,  # never erase what is still waiting to be answered
    )
    await forget(session, select(Message.id).where(*due))  # search no longer finds them
    result = await session.execute(
        update(Message)
        .where(*due)
        .values(text=ERASED, nlu=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
