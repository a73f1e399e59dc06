"""A home-care order's steps and the monthly quota ledger, each a conditional UPDATE.

The quota is one row per elder and month (care_quotas); booking adds minutes only while
the total stays within the grade's hours, so two requests at once can never book more
than the quota. Of two providers claiming the same order, exactly one wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.base import existing
from storage.home_care import (
    BILLED_STATUSES,
    HOURLY_RATE_YUAN,
    NUMBER_OFFSET,
    NUMBER_PREFIX,
    CareElder,
    CareOrder,
    CareOrderEvent,
    CareProvider,
    CareQuota,
    month_of,
    remaining_minutes,
)
from storage.residents import Resident


class QuotaExceeded(Exception):
    """The month's hours would go over the grade's quota."""

    def __init__(self, remaining_minutes: int) -> None:
        super().__init__(f"{remaining_minutes} minutes left")
        self.remaining_minutes = remaining_minutes


async def _ledger(session: AsyncSession, elder_id: int, month: str) -> None:
    """Make sure the month's ledger row exists (race-free)."""
    if await session.scalar(
        select(CareQuota.id).where(CareQuota.elder_id == elder_id, CareQuota.month == month)
    ):
        return
    try:
        async with session.begin_nested():
            session.add(CareQuota(elder_id=elder_id, month=month, booked_minutes=0))
    except IntegrityError:
        pass


async def adjust_quota(session: AsyncSession, elder: CareElder, month: str, minutes: int) -> None:
    """Book (minutes > 0) or release (< 0) quota; raises QuotaExceeded when it would not fit."""
    await _ledger(session, elder.id, month)
    where: list[Any] = [CareQuota.elder_id == elder.id, CareQuota.month == month]
    if minutes > 0:
        where.append(CareQuota.booked_minutes + minutes <= elder.monthly_hours * 60)
    result = await session.execute(
        update(CareQuota)
        .where(*where)
        .values(booked_minutes=CareQuota.booked_minutes + minutes)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise QuotaExceeded(await remaining_minutes(session, elder, month))


async def record(
    session: AsyncSession, order: CareOrder, kind: str, actor: str, **extra: str | None
) -> None:
    """Add one step to an order's history."""
    session.add(CareOrderEvent(order_id=order.id, kind=kind, actor=actor, **extra))
    await session.flush()


async def request_order(
    session: AsyncSession,
    *,
    elder: CareElder,
    requester: Resident,
    service_item: str,
    scheduled_at: datetime,
    expected_minutes: int,
    actor: str,
    note: str | None = None,
    conversation_id: int | None = None,
    source_message_id: int | None = None,
) -> CareOrder:
    """Book the expected hours against the month's quota and create the order (J1001 …)."""
    month = month_of(scheduled_at)
    await adjust_quota(session, elder, month, expected_minutes)
    order = CareOrder(
        elder_id=elder.id,
        requester_id=requester.id,
        service_item=service_item,
        scheduled_at=scheduled_at,
        quota_month=month,
        expected_minutes=expected_minutes,
        request_note=note,
        conversation_id=conversation_id,
        source_message_id=source_message_id,
    )
    session.add(order)
    await session.flush()
    order.number = f"{NUMBER_PREFIX}{NUMBER_OFFSET + order.id}"
    await record(session, order, "requested", actor, note=note)
    return order


async def move(
    session: AsyncSession,
    order: CareOrder,
    *,
    from_statuses: tuple[str, ...],
    to_status: str,
    actor: str,
    now: datetime,
    provider_id: int | None = None,
    note: str | None = None,
    **values: Any,
) -> bool:
    """Change an order's state if it is still in one of from_statuses (and held by provider_id).

    Returns False when someone else moved it first: the loser of a race changes nothing.
    """
    where: list[Any] = [CareOrder.id == order.id, CareOrder.status.in_(from_statuses)]
    if provider_id is not None and to_status != "claimed":
        where.append(CareOrder.provider_id == provider_id)
    stamp = {
        "claimed": "claimed_at",
        "visiting": "visited_at",
        "completed": "completed_at",
        "reviewed": "reviewed_at",
        "cancelled": "cancelled_at",
    }
    values |= {"status": to_status, "updated_at": now, stamp[to_status]: now}
    if to_status == "claimed":
        values["provider_id"] = provider_id
    result = await session.execute(
        update(CareOrder)
        .where(*where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await session.refresh(order)
    await record(session, order, to_status, actor, note=note)
    return True


async def complete_order(
    session: AsyncSession,
    order: CareOrder,
    provider: CareProvider,
    *,
    minutes: int,
    note: str,
    photo_urls: list[str],
    now: datetime,
) -> bool:
    """Record the hours worked (within the month's quota), the note and the photos.

    False when the order is not this provider's visit in progress; QuotaExceeded (nothing
    changed) when the hours beyond those booked do not fit the quota.
    """
    elder = await existing(session, CareElder, order.elder_id)
    try:
        async with session.begin_nested():
            actor = f"provider:{provider.id}"
            done = await move(
                session,
                order,
                from_statuses=("visiting",),
                to_status="completed",
                actor=actor,
                now=now,
                provider_id=provider.id,
                note=note,
                worked_minutes=minutes,
                completion_note=note[:255],
            )
            if not done:
                return False
            if minutes != order.expected_minutes:
                await adjust_quota(
                    session, elder, order.quota_month, minutes - order.expected_minutes
                )
            for url in photo_urls:
                await record(session, order, "photo", actor, photo_url=url[:512])
    except QuotaExceeded:
        await session.refresh(order)
        raise
    return True


async def cancel_order(session: AsyncSession, order: CareOrder, actor: str, now: datetime) -> bool:
    """Cancel an order not yet visited and give its booked hours back to the month."""
    if not await move(
        session,
        order,
        from_statuses=("requested", "claimed"),
        to_status="cancelled",
        actor=actor,
        now=now,
    ):
        return False
    elder = await existing(session, CareElder, order.elder_id)
    await adjust_quota(session, elder, order.quota_month, -order.expected_minutes)
    return True


async def review_order(
    session: AsyncSession, order: CareOrder, actor: str, now: datetime, *, result: str, note: str
) -> bool:
    """Staff's review of the photos and phone call-back (电话回访): 满意 or 不满意, with a note."""
    return await move(
        session,
        order,
        from_statuses=("completed",),
        to_status="reviewed",
        actor=actor,
        now=now,
        note=f"{result} {note}".strip(),
        callback_result=result,
        review_note=note[:255] or None,
    )


async def order_photos(session: AsyncSession, order: CareOrder) -> list[str]:
    """The photos a provider uploaded for an order, in order."""
    stmt = select(CareOrderEvent.photo_url).where(
        CareOrderEvent.order_id == order.id, CareOrderEvent.photo_url.is_not(None)
    )
    return [url for url in (await session.scalars(stmt.order_by(CareOrderEvent.id))).all() if url]


@dataclass(frozen=True)
class CostLine:
    """Hours worked and what the government pays for them, for one elder or one provider."""

    name: str
    orders: int
    minutes: int

    @property
    def hours(self) -> Decimal:
        """Hours worked (to the minute, as a decimal)."""
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.01"))

    @property
    def cost_yuan(self) -> Decimal:
        """The government's payment at 17 yuan an hour, to the fen."""
        return (Decimal(self.minutes) * HOURLY_RATE_YUAN / 60).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class MonthlyCost:
    """A month's home-care bill: per elder, per provider, and the total."""

    month: str
    per_elder: list[CostLine]
    per_provider: list[CostLine]

    @property
    def total(self) -> CostLine:
        """All completed visits of the month together."""
        return CostLine(
            "合计",
            sum(line.orders for line in self.per_elder),
            sum(line.minutes for line in self.per_elder),
        )


async def monthly_cost(session: AsyncSession, month: str) -> MonthlyCost:
    """The completed (and reviewed) visits of a month, summed per elder and per provider."""
    billed = (CareOrder.quota_month == month, CareOrder.status.in_(BILLED_STATUSES))
    lines: dict[str, list[CostLine]] = {}
    for key, model in (("elder", CareElder), ("provider", CareProvider)):
        column = CareOrder.elder_id if model is CareElder else CareOrder.provider_id
        stmt = (
            select(model.name, func.count(CareOrder.id), func.sum(CareOrder.worked_minutes))
            .join(model, model.id == column)
            .where(*billed)
            .group_by(model.id, model.name)
            .order_by(model.id)
        )
        rows = (await session.execute(stmt)).all()
        lines[key] = [CostLine(name, int(n), int(m or 0)) for name, n, m in rows]
    return MonthlyCost(month, lines["elder"], lines["provider"])


@dataclass(frozen=True)
class OrderFilter:
    """The order list's filters, as parsed from a query string (None: any)."""

    status: str | None = None
    month: str | None = None
    cursor: int | None = None
    limit: int = 50


async def order_rows(
    session: AsyncSession, wanted: OrderFilter, *, provider_id: int | None = None
) -> list[Any]:
    """(CareOrder, elder name, provider name) rows, newest first.

    With provider_id, only that provider's orders and the unclaimed ones (-1: only those).
    """
    stmt = (
        select(CareOrder, CareElder.name, CareProvider.name)
        .join(CareElder, CareElder.id == CareOrder.elder_id)
        .outerjoin(CareProvider, CareProvider.id == CareOrder.provider_id)
    )
    if provider_id is not None:
        stmt = stmt.where(
            or_(CareOrder.provider_id == provider_id, CareOrder.status == "requested")
        )
    if wanted.cursor is not None:
        stmt = stmt.where(CareOrder.id < wanted.cursor)
    if wanted.status:
        stmt = stmt.where(CareOrder.status == wanted.status)
    if wanted.month:
        stmt = stmt.where(CareOrder.quota_month == wanted.month[:7])
    stmt = stmt.order_by(CareOrder.id.desc()).limit(wanted.limit)
    return list((await session.execute(stmt)).all())
