"""Load the demo community from YAML: grids, workers, partner units, and each service's data.

The seed file may name other files under `include:` (paths relative to it); their top-level
keys are merged in. Each service adds a seeder to SEEDERS; seeders only insert what is
not there yet, so seeding twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.booking_seed import seed_activities, seed_rehab
from storage.community import Grid, GridPlace, PartnerUnit, Worker
from storage.home_care import seed_home_care
from storage.wishes import seed_wishes

Seeder = Callable[[AsyncSession, dict[str, Any]], Awaitable[int]]


def _worker(item: dict[str, Any], grid_id: int | None, role: str) -> Worker:
    return Worker(
        name=item["name"],
        phone=item.get("phone"),
        role=item.get("role", role),
        grid_id=grid_id,
        platform=item.get("platform"),
        platform_user_id=item.get("user_id"),
    )


async def seed_community(session: AsyncSession, data: dict[str, Any]) -> int:
    """Insert grids, workers, staff and partner units not present yet; return how many grids."""
    existing = set((await session.scalars(select(Grid.code))).all())
    added = 0
    for item in data.get("grids", []):
        if item["code"] in existing:
            continue
        grid = Grid(code=item["code"], name=item["name"])
        grid.places = [GridPlace(name=name) for name in item.get("places", [])]
        session.add(grid)
        await session.flush()
        if item.get("worker"):
            session.add(_worker(item["worker"], grid.id, "grid_worker"))
        added += 1
    names = set((await session.scalars(select(Worker.name))).all())
    for item in data.get("staff", []):
        if item["name"] not in names:
            session.add(_worker(item, None, "staff"))
    units = set((await session.scalars(select(PartnerUnit.category))).all())
    for unit in data.get("partner_units", []):
        if unit["category"] not in units:
            session.add(
                PartnerUnit(
                    name=unit["name"],
                    category=unit["category"],
                    contact=unit.get("contact"),
                    platform=unit.get("platform"),
                    platform_user_id=unit.get("user_id"),
                )
            )
    await session.flush()
    return added


SEEDERS: list[Seeder] = [seed_community, seed_home_care, seed_rehab, seed_activities, seed_wishes]


async def seed_all(session: AsyncSession, data: dict[str, Any]) -> int:
    """Run every service's seeder on the merged seed data; return what they inserted."""
    total = 0
    for seeder in SEEDERS:
        total += await seeder(session, data)
    return total


def read_seed(path: Path) -> dict[str, Any]:
    """Read a seed file and the files it includes, merged by top-level key."""
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for name in data.pop("include", None) or []:
        extra = read_seed(path.parent / name)
        clash = set(extra) & set(data)
        if clash:
            raise ValueError(f"seed file {name} repeats keys already defined: {sorted(clash)}")
        data.update(extra)
    return data
