"""Small read helpers for assertions against the database under test."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from storage.db import create_engine, session_factory
from storage.messages import PENDING, SENDING, Message
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


async def outbox_idle(db_url: str, within: float = 30.0, *, must: bool = True) -> None:
    """Wait until no outbound message of any platform is waiting or being sent.

    must=False gives up quietly at the deadline (teardown of tests that leave work behind
    on purpose); otherwise a busy outbox after `within` seconds fails the test.
    """
    deadline = asyncio.get_running_loop().time() + within
    engine = create_engine(db_url)
    try:
        while True:
            async with session_factory(engine)() as session:
                busy = await session.scalar(
                    select(Message.id)
                    .where(Message.direction == "out", Message.status.in_((PENDING, SENDING)))
                    .limit(1)
                )
            if busy is None:
                return
            if asyncio.get_running_loop().time() > deadline:
                if must:
                    raise AssertionError(f"outbox still busy after {within} s")
                return
            await asyncio.sleep(0.05)
    finally:
        await engine.dispose()
