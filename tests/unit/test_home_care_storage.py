"""Home-care storage on SQLite and PostgreSQL: the quota ledger, claims, costs, the roster."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import select

from handlers.home_care import status_lines
from storage.base import utcnow
from storage.db import create_engine, session_factory
from storage.home_care import (
    CareElder,
    CareProvider,
    assess,
    booked_minutes,
    elders_of,
    link_requester,
    month_of,
    order_by_number,
)
from storage.home_care_orders import (
    QuotaExceeded,
    adjust_quota,
    complete_order,
    monthly_cost,
    move,
    order_photos,
    request_order,
)
from storage.residents import Resident, get_or_create_resident
from tests.db_helpers import fetch


async def test_quota_is_never_overbooked_under_concurrent_requests(db_url):
    engine = create_engine(db_url)
    sessions = session_factory(engine)
    month = month_of(utcnow())

    async def reserve() -> bool:
        async with sessions() as s, s.begin():
            elder = (await s.scalars(select(CareElder).where(CareElder.name == "孙淑珍"))).one()
            try:
                await adjust_quota(s, elder, month, 120)
            except Exception:
                return False
            return True

    results = await asyncio.gather(*(reserve() for _ in range(8)))
    assert sum(results) == 5  # 10 hours in 2-hour visits
    await engine.dispose()


async def test_one_claim_wins_and_monthly_cost_per_elder_and_provider(db_url):

    engine = create_engine(db_url)
    sessions = session_factory(engine)
    now = utcnow()
    async with sessions() as s, s.begin():
        elder = (await s.scalars(select(CareElder).where(CareElder.name == "钱福生"))).one()
        resident = await get_or_create_resident(s, "generic", "daughter-1")
        placed = await request_order(s, elder=elder, requester=resident, service_item="助浴",
                                     scheduled_at=now, expected_minutes=90, actor="test")  # fmt: skip
        number = placed.number or ""
    providers = await fetch(db_url, select(CareProvider).order_by(CareProvider.id))

    async def claim(provider: CareProvider) -> bool:
        async with sessions() as s, s.begin():
            found = await order_by_number(s, number)
            assert found is not None
            return await move(s, found, from_statuses=("requested",), to_status="claimed",
                              actor="test", now=now, provider_id=provider.id)  # fmt: skip

    assert sorted(await asyncio.gather(*(claim(p) for p in providers))) == [False, True]
    async with sessions() as s, s.begin():
        found = await order_by_number(s, number)
        assert found is not None and found.provider_id is not None
        winner = await s.get(CareProvider, found.provider_id)
        assert winner is not None
        await move(s, found, from_statuses=("claimed",), to_status="visiting", actor="test",
                   now=now, provider_id=winner.id)  # fmt: skip
        assert await complete_order(s, found, winner, minutes=60, note="助浴", now=now,
                                    photo_urls=["https://img.example/1.jpg"])  # fmt: skip
        assert await order_photos(s, found) == ["https://img.example/1.jpg"]
        bill = await monthly_cost(s, month_of(now))
    assert [(line.name, line.hours, line.cost_yuan) for line in bill.per_elder] == [
        ("钱福生", Decimal("1.00"), Decimal("17.00"))
    ]
    assert [line.name for line in bill.per_provider] == [winner.name]
    assert bill.total.cost_yuan == Decimal("17.00")
    async with sessions() as s:
        resident = (
            await s.scalars(select(Resident).where(Resident.platform_user_id == "daughter-1"))
        ).one()
        assert await status_lines(s, resident.id) == [
            f"居家养老 {number}【助浴】钱福生：服务已完成，等待社区回访"
        ]
    await engine.dispose()


async def test_completion_over_the_quota_is_refused_and_changes_nothing(db_url):

    engine = create_engine(db_url)
    now = utcnow()
    async with session_factory(engine)() as s, s.begin():
        elder = (await s.scalars(select(CareElder).where(CareElder.name == "孙淑珍"))).one()
        resident = await get_or_create_resident(s, "generic", "son-3")
        provider = (await s.scalars(select(CareProvider).order_by(CareProvider.id))).first()
        assert provider is not None
        placed = await request_order(s, elder=elder, requester=resident, service_item="做饭",
                                     scheduled_at=now, expected_minutes=120, actor="test")  # fmt: skip
        await adjust_quota(s, elder, month_of(now), 480)  # the other 8 hours of grade 丙
        for status in ("claimed", "visiting"):
            await move(s, placed, from_statuses=("requested", "claimed"), to_status=status,
                       actor="test", now=now, provider_id=provider.id)  # fmt: skip
        with pytest.raises(QuotaExceeded) as refused:
            await complete_order(
                s, placed, provider, minutes=180, note="做饭", photo_urls=[], now=now
            )
        assert refused.value.remaining_minutes == 0
        assert (placed.status, placed.worked_minutes) == ("visiting", None)
        assert await complete_order(
            s, placed, provider, minutes=90, note="做饭", photo_urls=[], now=now
        )
        assert await booked_minutes(s, elder.id, month_of(now)) == 570  # 30 minutes given back
    await engine.dispose()


async def test_staff_assessment_puts_an_elder_on_the_roster(db_url):

    engine = create_engine(db_url)
    async with session_factory(engine)() as s, s.begin():
        elder = (await s.scalars(select(CareElder).where(CareElder.name == "周德明"))).one()
        assert not elder.eligible
        assess(elder, eligibility="低保", condition="空巢", grade="丙")
        assert elder.eligible and elder.monthly_hours == 10
        assert await link_requester(s, elder, "generic", "grandson-4", "祖父")
        assert not await link_requester(s, elder, "generic", "grandson-4", "祖父")
        grandson = await get_or_create_resident(s, "generic", "grandson-4")
        assert [(e.name, rel) for e, rel in await elders_of(s, grandson)] == [("周德明", "祖父")]
    await engine.dispose()
