"""Tickets (工单): reported problems tracked from submission to closure, with their events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow
from storage.community import Grid, Worker
from storage.residents import Resident

OPEN_STATUSES = ("submitted", "assigned", "accepted", "in_progress")
NUMBER_OFFSET = 1000


class Ticket(Base):
    """A problem a resident reported, with its place, grid and current state."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_created", "status", "created_at"),
        Index("ix_tickets_reporter_status", "reporter_id", "status"),
        Index("ix_tickets_grid_category_status", "grid_id", "category", "status"),
        # the board (bot/api/tickets.py): a grid's tickets of one state, newest first, and
        # the SLA colours' due-time conditions (handlers/sla.colour_clause); migration 0008
        Index("ix_tickets_grid_status_id", "grid_id", "status", "id"),
        Index("ix_tickets_status_accept_due", "status", "accept_due_at"),
        Index("ix_tickets_status_resolve_due", "status", "resolve_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(16), unique=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    location: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    source_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    partner_unit_id: Mapped[int | None] = mapped_column(ForeignKey("partner_units.id"))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[str | None] = mapped_column(Text)  # JSON: what a service flow collected
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    accept_due_at: Mapped[datetime | None] = mapped_column()
    resolve_due_at: Mapped[datetime | None] = mapped_column()
    accept_warn_at: Mapped[datetime | None] = mapped_column()  # 80% of the time to accept
    resolve_warn_at: Mapped[datetime | None] = mapped_column()  # 80% of the time to resolve
    accepted_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()  # unaccepted: told the leader
    whistled_at: Mapped[datetime | None] = mapped_column()  # overdue: 吹哨 to the partner unit
    rating: Mapped[int | None] = mapped_column()
    rating_note: Mapped[str | None] = mapped_column(String(255))
    callback_needed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    callback_done_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TicketEvent(Base):
    """One change in a ticket's life: who did what, when, with a note."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    photo_url: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketFollower(Base):
    """A resident who reported the same problem (a duplicate) and gets the ticket's updates."""

    __tablename__ = "ticket_followers"
    __table_args__ = (UniqueConstraint("ticket_id", "resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


async def create_ticket(
    session: AsyncSession,
    *,
    category: str,
    location: str | None,
    description: str,
    reporter_id: int,
    grid_id: int | None,
    assignee_id: int | None,
    conversation_id: int | None,
    source_message_id: int | None,
    actor: str,
) -> Ticket:
    """Create a ticket with its first event and give it the number residents type back."""
    status = "assigned" if assignee_id else "submitted"
    ticket = Ticket(
        category=category,
        status=status,
        location=location,
        description=description,
        reporter_id=reporter_id,
        grid_id=grid_id,
        assignee_id=assignee_id,
        conversation_id=conversation_id,
        source_message_id=source_message_id,
    )
    session.add(ticket)
    await session.flush()
    ticket.number = str(NUMBER_OFFSET + ticket.id)
    session.add(TicketEvent(ticket_id=ticket.id, kind="created", to_status=status, actor=actor))
    await session.flush()
    return ticket


async def open_tickets_of(session: AsyncSession, reporter_id: int, limit: int = 5) -> list[Ticket]:
    """Return a resident's open tickets, newest first."""
    stmt = (
        select(Ticket)
        .where(Ticket.reporter_id == reporter_id, Ticket.status.in_(OPEN_STATUSES))
        .order_by(Ticket.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def ticket_by_number(session: AsyncSession, number: str) -> Ticket | None:
    """Look a ticket up by the number printed to the resident."""
    return (await session.scalars(select(Ticket).where(Ticket.number == number))).first()


@dataclass(frozen=True)
class TicketFilter:
    """The ticket board's filters, as parsed from a query string (None: any)."""

    status: str | None = None
    category: str | None = None
    grid: str | None = None
    colour: str | None = None
    callback: bool | None = None
    cursor: int | None = None
    limit: int = 50


async def board_rows(
    session: AsyncSession,
    wanted: TicketFilter,
    *,
    only_grid: int | None = None,
    where: ColumnElement[bool] | None = None,
) -> list[Any]:
    """(Ticket, Grid, Resident, Worker) rows for the board, newest first.

    only_grid limits the rows to one grid (-1 for none); where is an extra condition (the SLA
    colour, which the handlers compute).
    """
    stmt = select(Ticket, Grid, Resident, Worker)
    if only_grid is not None:
        stmt = stmt.where(Ticket.grid_id == only_grid)
    stmt = (
        stmt.outerjoin(Grid, Grid.id == Ticket.grid_id)
        .outerjoin(Resident, Resident.id == Ticket.reporter_id)
        .outerjoin(Worker, Worker.id == Ticket.assignee_id)
    )
    if wanted.cursor is not None:
        stmt = stmt.where(Ticket.id < wanted.cursor)
    if wanted.status:
        stmt = stmt.where(Ticket.status == wanted.status)
    if wanted.category:
        stmt = stmt.where(Ticket.category == wanted.category)
    if wanted.grid:  # by id, so ix_tickets_grid_status_id gives the order
        grid_id = select(Grid.id).where(Grid.code == wanted.grid).scalar_subquery()
        stmt = stmt.where(Ticket.grid_id == grid_id)
    if wanted.callback is not None:
        stmt = stmt.where(Ticket.callback_needed.is_(wanted.callback))
    if where is not None:
        stmt = stmt.where(where)
    return list((await session.execute(stmt.order_by(Ticket.id.desc()).limit(wanted.limit))).all())


async def ticket_events(session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    """A ticket's history, oldest first."""
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    return list((await session.scalars(stmt)).all())


async def count_open_by(session: AsyncSession, label: ColumnElement[str]) -> dict[str, int]:
    """How many open tickets carry each value of a label (one GROUP BY, no rows loaded)."""
    stmt = select(label, func.count()).where(Ticket.status.in_(OPEN_STATUSES)).group_by(label)
    return {str(value): int(n) for value, n in (await session.execute(stmt)).all()}
