"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Seconds a request waits for a pooled connection before it is answered 503 (the platforms
# redeliver); SQLAlchemy's default of 30 s would outlast every platform's deadline.
POOL_TIMEOUT = 4.0


def create_engine(url: str) -> AsyncEngine:
    """Create an async engine; SQLite gets WAL, a busy timeout and real transactions.

    Every engine hides bound parameters in its errors: they carry residents' words and
    phone numbers, and errors end up in logs, which message_retention_days does not reach.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # No pre-ping: on asyncpg it is three round trips (BEGIN, SELECT 1, ROLLBACK) per
        # checkout, a third of a reply's database work. A connection that died (a server
        # restart) fails its first statement instead; SQLAlchemy then discards every pooled
        # connection of that age, and the caller's error path (503 for a webhook, the job
        # left queued, the delivery's retry) covers that one failure.
        return create_async_engine(
            url, pool_size=10, max_overflow=10, pool_timeout=POOL_TIMEOUT, hide_parameters=True
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url, connect_args={"timeout": 30}, pool_timeout=POOL_TIMEOUT, hide_parameters=True
    )
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
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(_READ_ONLY):
            conn.exec_driver_sql("BEGIN")  # a WAL reader neither waits for nor blocks the writer
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


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


async def ping(engine: AsyncEngine) -> None:
    """One round trip to the database (readiness): raises if it does not answer."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
