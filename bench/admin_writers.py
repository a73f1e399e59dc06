"""Bulk writers for bench/admin_queries.py: seeded databases cached by size.

SQLite: var/bench/admin-v<format>-m<messages>-t<tickets>.db, written with sqlite3 executemany in big
transactions, then the FTS5 index optimised and ANALYZE run. PostgreSQL: a template database
linli_bench_v<format>_m<messages>_t<tickets> written with COPY (the search table's GIN index dropped
while loading and built after), VACUUM ANALYZE; each run measures a fresh copy of it.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import URL, Table

from bench import admin_seed as seed
from storage.base import utcnow
from storage.migrate import upgrade
from storage.models import Base
from tests.support import REPO, seed_demo

EXTRA_GRIDS = 20
CACHE_FORMAT = 2  # bump when the seeded rows or the index tokens change: old caches are ignored
CHUNK = 20_000


def _complete(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Every column of the table: given values, else the model's scalar default, else None."""
    out = {}
    for col in table.columns:
        if col.name in row:
            out[col.name] = row[col.name]
        elif col.default is not None and col.default.is_scalar:
            out[col.name] = col.default.arg  # type: ignore[attr-defined]
        elif col.default is not None:
            out[col.name] = utcnow()
        else:
            out[col.name] = None
    return out


def _chunks(rows: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    it = iter(rows)
    while batch := list(itertools.islice(it, size)):
        yield batch


def _people(n_conv: int, grids: list[int]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    residents, conversations = [], []
    for c in range(1, n_conv + 1):
        platform, at = seed.platform_of(c), seed.NOW - seed.SPAN
        residents.append(
            {
                "id": c,
                "platform": platform,
                "platform_user_id": f"u{c}",
                "name": f"居民{c}",
                "grid_id": grids[c % len(grids)],
                "created_at": at,
            }
        )
        conversations.append({"id": c, "platform": platform, "chat_id": f"u{c}",
                              "user_id": f"u{c}", "resident_id": c, "handed_off": c % 97 == 0,
                              "last_message_at": seed.NOW, "created_at": at})  # fmt: skip
    return residents, conversations


def _sizes(messages: int) -> int:
    return max(100, messages // 50)  # conversations: 50 messages each on average


def _report(what: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {what}: {now - started:.1f} s", flush=True)
    return now


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _sqlite_insert(db: sqlite3.Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    names = [c.name for c in table.columns]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    for batch in _chunks(rows):
        full = [_complete(table, r) for r in batch]
        db.executemany(sql, [[_sqlite_value(r[n]) for n in names] for r in full])


async def cached_sqlite(messages: int, tickets: int, reseed: bool) -> str:
    """The URL of a seeded SQLite file, seeding it first when it is not cached."""
    path = REPO / "var" / "bench" / f"admin-v{CACHE_FORMAT}-m{messages}-t{tickets}.db"
    if path.exists() and not reseed:
        print(f"sqlite: reusing {path} (migrated to head)")
        await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{path}")
        return f"sqlite+aiosqlite:///{path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".seeding")
    tmp.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{tmp}"
    print(f"sqlite: seeding {tmp}", flush=True)
    started = t0 = time.perf_counter()
    await asyncio.to_thread(upgrade, url)
    await seed_demo(url)
    t0 = _report("schema and demo community", t0)
    await asyncio.to_thread(_fill_sqlite, str(tmp), messages, tickets, t0)
    _report("seeding in all", started)
    tmp.rename(path)
    return f"sqlite+aiosqlite:///{path}"


def _fill_sqlite(path: str, messages: int, tickets: int, t0: float) -> None:
    tables = Base.metadata.tables
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; BEGIN;")
    grids = _grids(db.execute, tables)
    residents, conversations = _people(_sizes(messages), grids)
    _sqlite_insert(db, tables["residents"], residents)
    _sqlite_insert(db, tables["conversations"], conversations)
    gen = seed.messages(messages, len(conversations))
    for batch in _chunks(gen):
        _sqlite_insert(db, tables["messages"], map(seed.message_record, batch))
        db.executemany(
            "INSERT INTO message_search (rowid, tokens) VALUES (?, ?)",
            [seed.search_record(row) for row in batch],
        )
    t0 = _report(f"{messages:,} messages with their search index", t0)
    _sqlite_insert(db, tables["tickets"], seed.tickets(tickets, grids, len(residents)))
    db.execute("COMMIT")
    t0 = _report(f"{tickets:,} tickets", t0)
    db.execute("INSERT INTO message_search (message_search) VALUES ('optimize')")
    db.execute("ANALYZE")
    db.close()
    _report("FTS5 optimize and ANALYZE", t0)


def _grids(execute: Any, tables: Any) -> list[int]:
    """Add B01..B20 to the demo's grids (sqlite3); every grid id."""
    for n in range(1, EXTRA_GRIDS + 1):
        execute("INSERT INTO grids (code, name, created_at) VALUES (?, ?, ?)",
                (f"B{n:02d}", f"第{n}网格", _sqlite_value(seed.NOW)))  # fmt: skip
    return [int(r[0]) for r in execute("SELECT id FROM grids").fetchall()]


def _pg_dsn(base: URL, database: str) -> str:
    return base.set(drivername="postgresql", database=database).render_as_string(False)


async def _admin(base: URL, statement: str) -> None:
    conn = await asyncpg.connect(_pg_dsn(base, base.database or "postgres"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def cached_postgres(base: URL, messages: int, tickets: int, reseed: bool) -> str:
    """The name of a seeded template database, seeding it first when it does not exist."""
    name = f"linli_bench_v{CACHE_FORMAT}_m{messages}_t{tickets}"
    conn = await asyncpg.connect(_pg_dsn(base, base.database or "postgres"))
    exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    await conn.close()
    if exists and not reseed:
        print(f"postgres: reusing template database {name}")
        return name
    await _admin(base, f"DROP DATABASE IF EXISTS {name}_seeding")
    await _admin(base, f"DROP DATABASE IF EXISTS {name}")
    await _admin(base, f"CREATE DATABASE {name}_seeding")
    url = base.set(database=f"{name}_seeding").render_as_string(False)
    print(f"postgres: seeding {name}", flush=True)
    started = t0 = time.perf_counter()
    await asyncio.to_thread(upgrade, url)
    await seed_demo(url)
    t0 = _report("schema and demo community", t0)
    await _fill_postgres(_pg_dsn(base, f"{name}_seeding"), messages, tickets, t0)
    _report("seeding in all", started)
    await _admin(base, f"ALTER DATABASE {name}_seeding RENAME TO {name}")
    return name


async def _copy(conn: asyncpg.Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    names = [c.name for c in table.columns]
    for batch in _chunks(rows):
        full = [_complete(table, r) for r in batch]
        records = [tuple(r[n] for n in names) for r in full]
        await conn.copy_records_to_table(table.name, records=records, columns=names)


async def _fill_postgres(dsn: str, messages: int, tickets: int, t0: float) -> None:
    tables = Base.metadata.tables
    conn = await asyncpg.connect(dsn)
    try:
        for n in range(1, EXTRA_GRIDS + 1):
            await conn.execute("INSERT INTO grids (code, name, created_at) VALUES ($1, $2, $3)",
                               f"B{n:02d}", f"第{n}网格", seed.NOW)  # fmt: skip
        grids = [int(r[0]) for r in await conn.fetch("SELECT id FROM grids")]
        residents, conversations = _people(_sizes(messages), grids)
        await _copy(conn, tables["residents"], residents)
        await _copy(conn, tables["conversations"], conversations)
        await conn.execute("DROP INDEX ix_message_search_tokens")
        await conn.execute("CREATE UNLOGGED TABLE search_load (id integer, tokens text)")
        for batch in _chunks(seed.messages(messages, len(conversations))):
            await _copy(conn, tables["messages"], map(seed.message_record, batch))
            await conn.copy_records_to_table(
                "search_load", records=list(map(seed.search_record, batch))
            )
        t0 = _report(f"{messages:,} messages (COPY)", t0)
        await conn.execute("INSERT INTO message_search (message_id, tokens) "
                           "SELECT id, to_tsvector('simple', tokens) FROM search_load")  # fmt: skip
        await conn.execute("DROP TABLE search_load")
        await conn.execute("CREATE INDEX ix_message_search_tokens ON message_search "
                           "USING gin (tokens)")  # fmt: skip
        t0 = _report("search index (tsvector + GIN)", t0)
        await _copy(conn, tables["tickets"], seed.tickets(tickets, grids, len(residents)))
        for table in ("residents", "conversations", "messages", "tickets", "grids"):
            await conn.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
        t0 = _report(f"{tickets:,} tickets", t0)
        await conn.execute("VACUUM ANALYZE")
        _report("VACUUM ANALYZE", t0)
    finally:
        await conn.close()


async def fresh_copy(base: URL, template: str) -> str:
    """A new database copied from the template (dropped after the run); its URL."""
    name = f"linli_bench_run_{int(time.time())}"
    started = time.perf_counter()
    await _admin(base, f"CREATE DATABASE {name} TEMPLATE {template}")
    url = base.set(database=name).render_as_string(False)
    await asyncio.to_thread(upgrade, url)  # a template seeded before a newer migration
    print(f"postgres: fresh copy {name} in {time.perf_counter() - started:.1f} s")
    return url


async def drop(base: URL, name: str) -> None:
    """Drop a database made for one run."""
    await _admin(base, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
