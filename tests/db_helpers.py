"""Small read helpers for assertions against the database under test."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from storage.db import create_engine, session_factory
from storage.messages import Message
from storage.tickets import Ticket


async def fetch(db_url: str, statement: Any) -> list[Any]:
    """Run a select on a fresh connection and return all rows' first columns."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            return list((await session.scalars(statement)).all())
    finally:
        await engine.dispose()


async def tickets(db_url: str) -> list[Ticket]:
    """Every ticket, oldest first."""
    return await fetch(db_url, select(Ticket).order_by(Ticket.id))


async def count(db_url: str, *where: Any) -> int:
    """How many messages match."""
    rows = await fetch(db_url, select(func.count()).select_from(Message).where(*where))
    return int(rows[0])
