"""NLU model candidates: retrained from the corrections, scored, then switched in by staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow

TRAINING, EVALUATING, READY, FAILED, LIVE, RETIRED = (
    "training",
    "evaluating",
    "ready",
    "failed",
    "live",
    "retired",
)
STATUSES = (TRAINING, EVALUATING, READY, FAILED, LIVE, RETIRED)
RUNNING = (TRAINING, EVALUATING)
SWITCHABLE = (READY, RETIRED)  # a retired model can be switched back in (a rollback)


class NluModel(Base):
    """One trained model: what it learned from, its held-out numbers and where it stands."""

    __tablename__ = "nlu_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)  # why it failed
    requested_by: Mapped[str] = mapped_column(String(64))
    corrections: Mapped[int] = mapped_column(default=0)  # staff corrections in its data
    model_hash: Mapped[str | None] = mapped_column(String(64))
    model_path: Mapped[str | None] = mapped_column(Text)
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # held-out numbers
    baseline_hash: Mapped[str | None] = mapped_column(String(64))  # the live model then
    baseline_scores: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    activated_at: Mapped[datetime | None] = mapped_column()


async def start_candidate(session: AsyncSession, requested_by: str, corrections: int) -> NluModel:
    """Record a new candidate in training."""
    candidate = NluModel(status=TRAINING, requested_by=requested_by, corrections=corrections)
    session.add(candidate)
    await session.flush()
    return candidate


async def running_candidate(session: AsyncSession) -> NluModel | None:
    """The candidate being trained or evaluated, if any."""
    stmt = select(NluModel).where(NluModel.status.in_(RUNNING)).order_by(NluModel.id.desc())
    return (await session.scalars(stmt.limit(1))).first()


async def fail_interrupted(session: AsyncSession, now: datetime) -> int:
    """Mark candidates left running by a stopped process as failed (call under the lock)."""
    result = await session.execute(
        update(NluModel)
        .where(NluModel.status.in_(RUNNING))
        .values(
            status=FAILED, reason="interrupted: the process running it stopped", finished_at=now
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def live_model(session: AsyncSession) -> NluModel | None:
    """The model recorded as live, if one was ever switched in."""
    stmt = select(NluModel).where(NluModel.status == LIVE).order_by(NluModel.id.desc())
    return (await session.scalars(stmt.limit(1))).first()


async def candidates(session: AsyncSession, cursor: int | None, limit: int) -> list[NluModel]:
    """Every candidate, newest first, a page at a time."""
    stmt = select(NluModel)
    if cursor is not None:
        stmt = stmt.where(NluModel.id < cursor)
    return list((await session.scalars(stmt.order_by(NluModel.id.desc()).limit(limit))).all())


async def make_live(session: AsyncSession, candidate: NluModel, now: datetime) -> NluModel | None:
    """Record `candidate` as live and the previous live one as retired; return that one."""
    previous = await live_model(session)
    if previous is not None and previous.id != candidate.id:
        previous.status = RETIRED
    candidate.status, candidate.activated_at = LIVE, now
    await session.flush()
    return previous if previous is not None and previous.id != candidate.id else None
