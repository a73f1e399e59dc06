"""The community's organisation: grids, the places in them, workers and partner units."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow


class Grid(Base):
    """A grid (网格): a set of streets, compounds and buildings with one responsible worker."""

    __tablename__ = "grids"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    places: Mapped[list[GridPlace]] = relationship(
        back_populates="grid", cascade="all, delete-orphan", lazy="selectin"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GridPlace(Base):
    """A street, lane, compound or building name that belongs to a grid."""

    __tablename__ = "grid_places"
    __table_args__ = (Index("ix_grid_places_name", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    grid: Mapped[Grid] = relationship(back_populates="places")


class Worker(Base):
    """A grid worker (网格员), the community leader or a staff member who takes tasks.

    role is grid_worker, leader or staff; platform + platform_user_id is where pushes go
    and how their own chat messages are recognised as a worker's.
    """

    __tablename__ = "workers"
    __table_args__ = (Index("ix_workers_identity", "platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32), default="grid_worker")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    platform: Mapped[str | None] = mapped_column(String(16))
    platform_user_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PartnerUnit(Base):
    """A partner unit (包联单位) that answers for one category of problem."""

    __tablename__ = "partner_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    category: Mapped[str] = mapped_column(String(32), index=True)
    contact: Mapped[str | None] = mapped_column(String(64))
    platform: Mapped[str | None] = mapped_column(String(16))
    platform_user_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


async def list_grids(session: AsyncSession) -> list[Grid]:
    """Return every grid with its places loaded."""
    return list((await session.scalars(select(Grid).order_by(Grid.id))).all())


async def match_grid(session: AsyncSession, location: str) -> Grid | None:
    """Find the grid whose longest place name occurs in the location text, if any."""
    best: tuple[int, Grid] | None = None
    for grid in await list_grids(session):
        for place in grid.places:
            if place.name and place.name in location:
                if best is None or len(place.name) > best[0]:
                    best = (len(place.name), grid)
    return best[1] if best else None


async def grid_worker(session: AsyncSession, grid_id: int) -> Worker | None:
    """Return the responsible worker of a grid."""
    stmt = select(Worker).where(Worker.grid_id == grid_id, Worker.role == "grid_worker")
    return (await session.scalars(stmt.order_by(Worker.id).limit(1))).first()


async def worker_by_identity(session: AsyncSession, platform: str, user_id: str) -> Worker | None:
    """The worker who chats under this platform identity, if any."""
    stmt = select(Worker).where(Worker.platform == platform, Worker.platform_user_id == user_id)
    return (await session.scalars(stmt.order_by(Worker.id).limit(1))).first()


async def grid_id_of(session: AsyncSession, code: str) -> int | None:
    """The id of the grid with this code, if there is one."""
    return (await session.scalars(select(Grid.id).where(Grid.code == code))).first()


async def worker_by_name(session: AsyncSession, name: str) -> Worker | None:
    """The first worker with this name (the name staff type when they dispatch)."""
    return (await session.scalars(select(Worker).where(Worker.name == name))).first()


async def worker_names(session: AsyncSession) -> list[str]:
    """Every worker's name, oldest first (the console's dispatch choices)."""
    return list((await session.scalars(select(Worker.name).order_by(Worker.id))).all())


async def workers_with_role(session: AsyncSession, role: str) -> list[Worker]:
    """Every worker of a role (leader, staff), oldest first."""
    stmt = select(Worker).where(Worker.role == role).order_by(Worker.id)
    return list((await session.scalars(stmt)).all())


async def partner_unit_for(session: AsyncSession, category: str) -> PartnerUnit | None:
    """The partner unit that answers for a category, if one is configured."""
    stmt = select(PartnerUnit).where(PartnerUnit.category == category).order_by(PartnerUnit.id)
    return (await session.scalars(stmt.limit(1))).first()
