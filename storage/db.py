"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util.concurrency import await_only, in_greenlet

# Seconds a request waits for a pooled connection before it is answered 503 (the platforms
# redeliver); SQLAlchemy's default of 30 s would outlast every platform's deadline.
POOL_TIMEOUT = 4.0
BUSY_TIMEOUT = 30.0  # seconds a SQLite writer waits for its turn before giving up


def create_engine(url: str) -> AsyncEngine:
    """Create an async engine; SQLite gets WAL, a busy timeout and real transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # No pre-ping: on asyncpg it is three round trips (BEGIN, SELECT 1, ROLLBACK) per
        # checkout, a third of a reply's database work. A connection that died (a server
        # restart) fails its first statement instead; SQLAlchemy then discards every pooled
        # connection of that age, and the caller's error path (503 for a webhook, the job
        # left queued, the delivery's retry) covers that one failure.
        return create_async_engine(url, pool_size=10, max_overflow=10, pool_timeout=POOL_TIMEOUT)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30}, pool_timeout=POOL_TIMEOUT)
    _make_sqlite_transactional(engine)
    return engine


def _make_sqlite_transactional(engine: AsyncEngine) -> None:
    """Let SQLAlchemy own BEGIN so savepoints work and writers queue instead of failing."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    writers = _WriterQueue()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(_READ_ONLY):
            conn.exec_driver_sql("BEGIN")  # a WAL reader neither waits for nor blocks the writer
            return
        writers.enter(conn.info)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.leave(conn.info)
            raise

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(conn: Any) -> None:
        writers.leave(conn.info)

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        writers.leave(record.info)  # whatever ended the transaction, the turn is over


class _WriterQueue:
    """One SQLite write transaction at a time in this process, the others queued in order.

    Without it, writers of the same process meet at SQLite's file lock, and the loser waits
    in SQLite's busy handler, which sleeps 1, 2, 5 … up to 100 ms between tries: tails of
    hundreds of ms at a few hundred writes a second. A turn ends at COMMIT or ROLLBACK (the
    events fire just before them: the next writer may meet the lock for that statement's
    duration, a millisecond in the busy handler) or when the connection goes back to the
    pool. Writers of other processes still meet at the file lock. Only for code running
    under SQLAlchemy's asyncio greenlets (all of the service's).
    """

    KEY = "linli_writer"

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    def enter(self, info: dict[str, Any]) -> None:
        """Wait for this process's turn to write (bounded like SQLite's own busy timeout)."""
        if self.KEY in info or not in_greenlet():
            return
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        try:
            await_only(asyncio.wait_for(lock.acquire(), BUSY_TIMEOUT))
        except TimeoutError:
            reason = Exception("waited too long for this process's other writers")
            raise sa_exc.OperationalError("BEGIN IMMEDIATE", {}, reason) from None
        info[self.KEY] = lock

    def leave(self, info: dict[str, Any]) -> None:
        """End this connection's turn, if it has one."""
        lock = info.pop(self.KEY, None)
        if lock is not None and lock.locked():
            lock.release()


_READ_ONLY = "linli_read_only"


async def read_only(session: AsyncSession) -> None:
    """Declare a new session's transaction read-only: on SQLite it takes no write lock."""
    await session.connection(execution_options={_READ_ONLY: True})


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Return the session factory used by every repository caller."""
    return async_sessionmaker(engine, expire_on_commit=False)


UNAVAILABLE = ("08", "53", "57")


def unavailable(exc: BaseException) -> bool:
    """True when exc means the database cannot be reached or is overloaded, not a bug."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        # No statement: it failed while connecting. SQLSTATE classes 08 (connection),
        # 53 (insufficient resources) and 57 (operator intervention, e.g. a restart).
        sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
        return exc.connection_invalidated or exc.statement is None or sqlstate[:2] in UNAVAILABLE
    return isinstance(exc, ConnectionError | TimeoutError)
