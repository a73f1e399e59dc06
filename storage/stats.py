"""The numbers staff publish (定期晒单): volumes, time to accept and resolve, SLA, satisfaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.community import Grid, PartnerUnit
from storage.tickets import Ticket

LOCAL = ZoneInfo("Asia/Shanghai")


@dataclass
class Figures:
    """Aggregates of one group of tickets (a grid, a unit, a category, or all)."""

    total: int = 0
    resolved: int = 0
    on_time: int = 0
    accept_minutes: list[float] = field(default_factory=list)
    resolve_hours: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)

    def add(self, ticket: Ticket) -> None:
        """Count one ticket."""
        self.total += 1
        if ticket.accepted_at:
            self.accept_minutes.append(
                (ticket.accepted_at - ticket.created_at).total_seconds() / 60
            )
        if ticket.resolved_at:
            self.resolved += 1
            self.resolve_hours.append(
                (ticket.resolved_at - ticket.created_at).total_seconds() / 3600
            )
            if ticket.resolve_due_at is None or ticket.resolved_at <= ticket.resolve_due_at:
                self.on_time += 1
        if ticket.rating is not None:
            self.ratings.append(ticket.rating)

    @property
    def satisfied(self) -> int:
        """Ratings of 4 or 5."""
        return sum(r >= 4 for r in self.ratings)

    def row(self) -> dict[str, float | int | None]:
        """The published figures of this group."""
        return {
            "tickets": self.total,
            "resolved": self.resolved,
            "median_accept_minutes": round(median(self.accept_minutes), 1)
            if self.accept_minutes
            else None,
            "median_resolve_hours": round(median(self.resolve_hours), 1)
            if self.resolve_hours
            else None,
            "sla_met_percent": round(100 * self.on_time / self.resolved, 1)
            if self.resolved
            else None,
            "satisfied_percent": round(100 * self.satisfied / len(self.ratings), 1)
            if self.ratings
            else None,
            "average_rating": round(sum(self.ratings) / len(self.ratings), 2)
            if self.ratings
            else None,
        }


def week_of(moment: datetime) -> str:
    """The ISO week of a moment in local time, e.g. 2026-W48."""
    year, week, _ = moment.astimezone(LOCAL).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Report:
    """Figures by week and category, by grid, by partner unit, and overall."""

    overall: Figures = field(default_factory=Figures)
    by_week_category: dict[tuple[str, str], Figures] = field(
        default_factory=lambda: defaultdict(Figures)
    )
    by_grid: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))
    by_unit: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))
    by_category: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))


async def ticket_report(
    session: AsyncSession, start: datetime, end: datetime, grid_id: int | None = None
) -> Report:
    """Aggregate the tickets created in [start, end), optionally of one grid."""
    stmt = (
        select(Ticket, Grid.code, PartnerUnit.name)
        .outerjoin(Grid, Grid.id == Ticket.grid_id)
        .outerjoin(PartnerUnit, PartnerUnit.id == Ticket.partner_unit_id)
        .where(
            Ticket.created_at >= start,
            Ticket.created_at < end,
            Ticket.status.not_in(("cancelled", "duplicate")),
        )
    )
    if grid_id is not None:
        stmt = stmt.where(Ticket.grid_id == grid_id)
    report = Report()
    for ticket, grid, unit in (await session.execute(stmt)).all():
        report.overall.add(ticket)
        report.by_week_category[(week_of(ticket.created_at), ticket.category)].add(ticket)
        report.by_grid[grid or "未定位"].add(ticket)
        report.by_unit[unit or "无"].add(ticket)
        report.by_category[ticket.category].add(ticket)
    return report
