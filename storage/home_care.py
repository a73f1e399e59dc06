"""Government-paid home care (政府购买居家养老服务): elders, providers, orders, quota, costs.

Grades 甲/乙/丙 give 30/20/10 hours a month; the government pays 17 yuan an hour. The
order steps and the quota ledger live in storage.home_care_orders.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow
from storage.residents import Resident

GRADE_HOURS = {"甲": 30, "乙": 20, "丙": 10}
HOURLY_RATE_YUAN = Decimal(17)
ELIGIBILITY = ("特困", "低保", "优抚")
CONDITIONS = ("失能", "半失能", "空巢", "独居")
OPEN_STATUSES = ("requested", "claimed", "visiting")
BILLED_STATUSES = ("completed", "reviewed")
NUMBER_PREFIX, NUMBER_OFFSET = "J", 1000
SHANGHAI = ZoneInfo("Asia/Shanghai")


class CareElder(Base):
    """An elderly person's file kept by staff: eligibility, condition and grade (一人一档)."""

    __tablename__ = "care_elders"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number_masked: Mapped[str | None] = mapped_column(String(32))  # only the masked form
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(255))
    eligibility: Mapped[str | None] = mapped_column(String(8))  # 特困 / 低保 / 优抚
    condition: Mapped[str | None] = mapped_column(String(8))  # 失能 / 半失能 / 空巢 / 独居
    grade: Mapped[str | None] = mapped_column(String(4))  # 甲 / 乙 / 丙
    monthly_hours: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def eligible(self) -> bool:
        """On the roster: an eligible group, a qualifying condition and a grade with hours."""
        return (
            self.active
            and self.eligibility in ELIGIBILITY
            and self.condition in CONDITIONS
            and self.grade in GRADE_HOURS
            and self.monthly_hours > 0
        )


class CareRequester(Base):
    """A chat identity allowed to request care for an elder (the elder, a son or daughter)."""

    __tablename__ = "care_requesters"
    __table_args__ = (
        UniqueConstraint("elder_id", "platform", "platform_user_id"),
        Index("ix_care_requesters_identity", "platform", "platform_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("care_elders.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    relation: Mapped[str] = mapped_column(String(16), default="本人")


class CareProvider(Base):
    """A contracted social organisation; its dispatcher claims orders from chat."""

    __tablename__ = "care_providers"
    __table_args__ = (Index("ix_care_providers_identity", "platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    contact: Mapped[str | None] = mapped_column(String(64))
    platform: Mapped[str | None] = mapped_column(String(16))
    platform_user_id: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, server_default=true(), default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CareOrder(Base):
    """One home visit: requested → claimed → visiting → completed → reviewed (or cancelled)."""

    __tablename__ = "care_orders"
    __table_args__ = (
        Index("ix_care_orders_status_created", "status", "created_at"),
        Index("ix_care_orders_elder_month", "elder_id", "quota_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("care_elders.id"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    service_item: Mapped[str] = mapped_column(String(32))
    scheduled_at: Mapped[datetime] = mapped_column()
    quota_month: Mapped[str] = mapped_column(String(7))  # YYYY-MM of scheduled_at, local time
    status: Mapped[str] = mapped_column(String(16), default="requested")
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("care_providers.id"), index=True)
    expected_minutes: Mapped[int] = mapped_column()
    worked_minutes: Mapped[int | None] = mapped_column()
    request_note: Mapped[str | None] = mapped_column(Text)
    completion_note: Mapped[str | None] = mapped_column(String(255))
    review_note: Mapped[str | None] = mapped_column(String(255))
    callback_result: Mapped[str | None] = mapped_column(String(16))  # 满意 / 不满意
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    claimed_at: Mapped[datetime | None] = mapped_column()
    visited_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column()
    cancelled_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CareOrderEvent(Base):
    """One step of an order: who, when, a note, and the photos a provider uploaded."""

    __tablename__ = "care_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("care_orders.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    photo_url: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CareQuota(Base):
    """Minutes booked (requested, then as worked) for one elder in one month."""

    __tablename__ = "care_quotas"
    __table_args__ = (UniqueConstraint("elder_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    elder_id: Mapped[int] = mapped_column(ForeignKey("care_elders.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    booked_minutes: Mapped[int] = mapped_column(default=0)


def month_of(when: datetime) -> str:
    """The quota month (YYYY-MM, Asia/Shanghai) a service time counts against."""
    return when.astimezone(SHANGHAI).strftime("%Y-%m")


async def elders_of(session: AsyncSession, resident: Resident) -> list[tuple[CareElder, str]]:
    """The elders this resident may request care for, with their relation to the resident."""
    stmt = (
        select(CareElder, CareRequester.relation)
        .join(CareRequester, CareRequester.elder_id == CareElder.id)
        .where(
            CareRequester.platform == resident.platform,
            CareRequester.platform_user_id == resident.platform_user_id,
        )
        .order_by(CareElder.id)
    )
    return [(elder, relation) for elder, relation in (await session.execute(stmt)).all()]


async def provider_by_identity(
    session: AsyncSession, platform: str, user_id: str
) -> CareProvider | None:
    """The provider whose dispatcher chats under this identity, if any."""
    stmt = select(CareProvider).where(
        CareProvider.platform == platform,
        CareProvider.platform_user_id == user_id,
        CareProvider.active.is_(True),
    )
    return (await session.scalars(stmt.order_by(CareProvider.id).limit(1))).first()


async def provider_id_by_name(session: AsyncSession, name: str) -> int | None:
    """The id of the provider organisation with this name, if any."""
    stmt = select(CareProvider.id).where(CareProvider.name == name)
    return (await session.scalars(stmt)).first()


async def active_providers(session: AsyncSession) -> list[CareProvider]:
    """Every contracted provider currently taking orders."""
    stmt = select(CareProvider).where(CareProvider.active.is_(True)).order_by(CareProvider.id)
    return list((await session.scalars(stmt)).all())


async def booked_minutes(session: AsyncSession, elder_id: int, month: str) -> int:
    """Minutes already booked or worked for an elder in a month."""
    stmt = select(CareQuota.booked_minutes).where(
        CareQuota.elder_id == elder_id, CareQuota.month == month
    )
    return int((await session.scalars(stmt)).first() or 0)


async def remaining_minutes(session: AsyncSession, elder: CareElder, month: str) -> int:
    """Minutes of the monthly quota still free."""
    used = await booked_minutes(session, elder.id, month)
    return max(0, elder.monthly_hours * 60 - used)


async def order_by_number(session: AsyncSession, number: str) -> CareOrder | None:
    """Look an order up by the number printed to people (J1001)."""
    stmt = select(CareOrder).where(CareOrder.number == number.upper())
    return (await session.scalars(stmt)).first()


async def orders_for_resident(
    session: AsyncSession, resident: Resident, limit: int = 5
) -> list[CareOrder]:
    """Unfinished orders a resident placed, or placed for an elder the resident is linked to."""
    linked = select(CareRequester.elder_id).where(
        CareRequester.platform == resident.platform,
        CareRequester.platform_user_id == resident.platform_user_id,
    )
    stmt = (
        select(CareOrder)
        .where(
            or_(CareOrder.requester_id == resident.id, CareOrder.elder_id.in_(linked)),
            CareOrder.status.in_((*OPEN_STATUSES, "completed")),
        )
        .order_by(CareOrder.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


def assess(
    elder: CareElder, *, eligibility: str | None, condition: str | None, grade: str | None
) -> None:
    """Staff's (yearly) assessment: group, condition and grade; the grade sets the hours."""
    elder.eligibility, elder.condition, elder.grade = eligibility, condition, grade
    elder.monthly_hours = GRADE_HOURS.get(grade or "", 0)


async def link_requester(
    session: AsyncSession, elder: CareElder, platform: str, user_id: str, relation: str
) -> bool:
    """Allow a chat identity to request care for an elder; False when already allowed."""
    stmt = select(CareRequester.id).where(
        CareRequester.elder_id == elder.id,
        CareRequester.platform == platform,
        CareRequester.platform_user_id == user_id,
    )
    if await session.scalar(stmt) is not None:
        return False
    session.add(
        CareRequester(
            elder_id=elder.id, platform=platform, platform_user_id=user_id, relation=relation
        )
    )
    await session.flush()
    return True


async def seed_home_care(session: AsyncSession, data: dict[str, Any]) -> int:
    """Insert the providers, elders and requester links of the seed not present yet."""
    providers = set((await session.scalars(select(CareProvider.name))).all())
    new = [item for item in data.get("care_providers", []) if item["name"] not in providers]
    for item in new:
        identity = {"platform": item.get("platform"), "platform_user_id": item.get("user_id")}
        session.add(CareProvider(name=item["name"], contact=item.get("contact"), **identity))
    elders = {e.name: e for e in (await session.scalars(select(CareElder))).all()}
    added = len(new)
    for item in data.get("care_elders", []):
        elder = elders.get(item["name"])
        if elder is None:
            elder = CareElder(
                name=item["name"],
                id_number_masked=item.get("id_number"),
                phone=item.get("phone"),
                address=item.get("address"),
            )
            assess(
                elder,
                eligibility=item.get("eligibility"),
                condition=item.get("condition"),
                grade=item.get("grade"),
            )
            session.add(elder)
            await session.flush()
            added += 1
        for link in item.get("requesters", []):
            await link_requester(
                session, elder, link["platform"], link["user_id"], link.get("relation", "本人")
            )
    await session.flush()
    return added
