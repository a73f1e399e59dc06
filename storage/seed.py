"""Load the demo community (grids, places, workers, partner units) from a YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.community import Grid, GridPlace, PartnerUnit, Worker


async def seed_community(session: AsyncSession, data: dict[str, Any]) -> int:
    """Insert grids, workers and partner units not present yet; return how many grids were new."""
    existing = set((await session.scalars(select(Grid.code))).all())
    added = 0
    for item in data.get("grids", []):
        if item["code"] in existing:
            continue
        grid = Grid(code=item["code"], name=item["name"])
        grid.places = [GridPlace(name=name) for name in item.get("places", [])]
        session.add(grid)
        await session.flush()
        worker = item.get("worker")
        if worker:
            session.add(Worker(name=worker["name"], phone=worker.get("phone"), grid_id=grid.id))
        added += 1
    units = set((await session.scalars(select(PartnerUnit.category))).all())
    for unit in data.get("partner_units", []):
        if unit["category"] not in units:
            session.add(PartnerUnit(**unit))
    await session.flush()
    return added


def read_seed(path: Path) -> dict[str, Any]:
    """Read a seed file (YAML)."""
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
