"""Full-text search over message texts in Chinese: a character-bigram index on both databases.

Every message's text is *folded* one character at a time (NFKC, traditional → simplified,
lower case), and every pair of adjacent folded characters becomes one index token, spelled
in letters so that both databases' word splitters keep it whole (路灯 → ``bevwbdsv``).
A query of two or more folded characters is the *phrase* of its bigrams — consecutive
positions — which matches exactly the texts whose folded form contains the folded query:
LIKE '%q%' semantics, plus full-width/half-width, case and traditional/simplified folding.
Folding is per character, so anything ``LIKE '%q%'`` finds on the raw text is found too.

- SQLite: an FTS5 table ``message_search(tokens)`` whose rowid is the message id; queried
  newest first with ``ORDER BY rowid DESC`` so FTS5 stops after one page.
- PostgreSQL: a table ``message_search(message_id, tokens tsvector)`` with a GIN index;
  the query is ``tokens @@ 'a' <-> 'b' <-> …`` (config ``simple``).

A query folding to one character cannot use bigrams: callers fall back to LIKE on the text,
bounded by their other filters and page size.

A date window is also turned into exact id bounds (``id_bounds``, from migration 0011's index
of messages by UTC day and id), so that both databases walk only the window's id range
newest first instead of every newer match (PostgreSQL's planner cannot know that a date
window is an id range). Both tables are written here only: on insert
(``index_message``, called from storage/messages.py) and when retention erases texts
(``forget``); the migration 0007 creates and backfills them.
"""

from __future__ import annotations

import itertools
import logging
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, column, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

logger = logging.getLogger(__name__)

TABLE = "message_search"
# Tables (and FTS5 shadow tables) that the models do not describe; Alembic must leave them be.
NOT_IN_MODELS = frozenset(
    {TABLE} | {f"{TABLE}_{part}" for part in ("data", "idx", "content", "docsize", "config")}
)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_WIDTH = 4  # letters per character: 26**4 = 456976 covers the BMP and CJK extensions B–F
_LIMIT = len(_LETTERS) ** _WIDTH
_fts = table(TABLE, column("rowid"))
_pg = table(TABLE, column("message_id"), column("tokens"))


DAY_INDEX = "ix_messages_day_id"  # migration 0011: messages by UTC day of created_at, then id


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic filter: the index tables (0007) and the day index (0011) are not in the models."""
    return not (type_ == "table" and name in NOT_IN_MODELS) and not (
        type_ == "index" and name == DAY_INDEX
    )


def day_of_created_at(dialect: str) -> str:
    """SQL for a message's UTC day, exactly as migration 0011 indexes it.

    SQLite keeps created_at as UTC text (``2026-11-28 08:00:00.000000``), PostgreSQL as
    timestamptz; both sort like the day they give (text ``YYYY-MM-DD``, date).
    """
    if dialect == "sqlite":
        return "substr(created_at, 1, 10)"
    return "((created_at AT TIME ZONE 'UTC')::date)"


def _bounds_sql(dialect: str) -> str:
    day = day_of_created_at(dialect)
    # Every day that has messages in [:first, :last] (one index probe each), then each day's
    # lowest and highest id (one probe each): ~0.01 ms a day on both databases.
    return f"""
WITH RECURSIVE days(day) AS (
    SELECT (SELECT {day} FROM messages WHERE {day} >= :first AND {day} <= :last
            ORDER BY 1 LIMIT 1)
    UNION ALL
    SELECT (SELECT {day} FROM messages WHERE {day} > days.day AND {day} <= :last
            ORDER BY 1 LIMIT 1)
    FROM days WHERE days.day IS NOT NULL
)
SELECT min((SELECT id FROM messages WHERE {day} = days.day ORDER BY id LIMIT 1)),
       max((SELECT id FROM messages WHERE {day} = days.day ORDER BY id DESC LIMIT 1))
FROM days WHERE days.day IS NOT NULL"""


Bounds = tuple[int | None, int | None]


async def id_bounds(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> Bounds | None:
    """Ids that every message created in [since, until) lies between; None: no such message.

    Exact whatever the order of ids and created_at (a message imported or re-dated later
    has a high id and an old date): the lowest id of the window's first UTC day and the
    highest id of its last day, from migration 0011's index. The bounds only narrow a
    search: callers keep filtering created_at. A side without a date stays open (None).
    """
    dialect = session.get_bind().dialect.name

    def day(value: datetime | None, default: date) -> date | str:
        found = value.astimezone(UTC).date() if value is not None else default
        return found.isoformat() if dialect == "sqlite" else found

    params = {"first": day(since, date.min), "last": day(until, date.max)}
    low, high = (await session.execute(text(_bounds_sql(dialect)), params)).one()
    if low is None:
        return None
    return (low if since is not None else None), (high if until is not None else None)


async def plan_each_search(session: AsyncSession) -> None:
    """PostgreSQL: plan this transaction's statements for their own values, one process each.

    asyncpg prepares every statement, and after five runs PostgreSQL may keep a generic plan
    costed with default selectivities (a tsquery matching 0.5% of rows, an id range of
    0.5%). For a search the values are the whole question: a common term in an old window
    got a bitmap AND and a sort of ~5,000 matches (20 ms) instead of a walk of its id range
    (0.3 ms), the one-character scan 35 ms instead of 1 ms. And a walk of a bounded id range
    looks cheap enough to split over parallel workers, whose start costs 5-25 ms on this
    two-core machine for a page of 50 rows. Both settings end with the transaction.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text(
                "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
                "set_config('max_parallel_workers_per_gather', '0', true)"
            )
        )


def within(stmt: Select[Any], column: Any, bounds: Bounds) -> Select[Any]:
    """Restrict a select to ids inside the bounds (a None side stays open)."""
    low, high = bounds
    if low is not None:
        stmt = stmt.where(column >= low)
    if high is not None:
        stmt = stmt.where(column <= high)
    return stmt


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc  # loaded on first use, like nlu/normalize.py

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def _fold_char(ch: str) -> str:
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        c = _t2s().convert(c).lower()
        out.append("".join(x if ord(x) < _LIMIT else "\ufffd" for x in c))
    return "".join(out)


def fold(value: str) -> str:
    """The text as the index sees it: NFKC, simplified, lower case, one character at a time."""
    return "".join(_fold_char(ch) for ch in value)


@lru_cache(maxsize=65536)
def _spell(ch: str) -> str:
    n, letters = ord(ch), []
    for _ in range(_WIDTH):
        n, digit = divmod(n, len(_LETTERS))
        letters.append(_LETTERS[digit])
    return "".join(reversed(letters))


def bigrams(value: str) -> list[str]:
    """Index tokens of a text: each pair of adjacent folded characters, spelled in letters."""
    spelled = [_spell(ch) for ch in fold(value)]
    return [a + b for a, b in itertools.pairwise(spelled)]


def tokens(value: str | None) -> str:
    """The token text stored for a message (space-separated bigrams; empty for no text)."""
    return " ".join(bigrams(value or ""))


def usable(q: str) -> bool:
    """Whether a query can use the index (it folds to two characters or more)."""
    return len(fold(q)) >= 2


def month_token(created_at: datetime | str | None) -> str:
    """The month token of a creation time in UTC (``m202611``): date windows skip ahead."""
    if created_at is None:
        return "m000000"
    if isinstance(created_at, datetime):
        created_at = created_at.astimezone(UTC).strftime("%Y-%m")
    return f"m{created_at[:4]}{created_at[5:7]}"


def _months(since: datetime | None, until: datetime | None) -> list[str]:
    """Month tokens covering [since, until) (empty: no useful bound, filter rows instead)."""
    if since is None:
        return []
    start, end = since.astimezone(UTC), (until or datetime.now(UTC)).astimezone(UTC)
    months: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month) and len(months) <= 36:
        months.append(f"m{year:04d}{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months if len(months) <= 36 else []


def _fts_phrase(q: str, since: datetime | None = None, until: datetime | None = None) -> str:
    phrase = '"' + " ".join(bigrams(q)) + '"'
    months = _months(since, until)
    return f"{phrase} AND ({' OR '.join(months)})" if months else phrase


def _ts_phrase(q: str, since: datetime | None = None, until: datetime | None = None) -> str:
    phrase = " <-> ".join(f"'{t}'" for t in bigrams(q))
    months = _months(since, until)
    return f"({phrase}) & ({' | '.join(months)})" if months else phrase


def restrict(
    stmt: Select[Any],
    q: str,
    dialect: str,
    message_id: Any,
    since: datetime | None = None,
    until: datetime | None = None,
    bounds: Bounds = (None, None),
) -> tuple[Select[Any], Any]:
    """Add "text contains q" to a select of messages; returns it and the id to order/page by.

    Order by the returned column, newest first: on SQLite it is the FTS5 rowid, which lets
    FTS5 walk its index backwards and stop after one page. A date window (the caller still
    filters created_at exactly) also requires one of its months' tokens, so the index skips
    to those months instead of walking back through every newer match. ``bounds`` (from
    ``id_bounds``) restrict the index's own id: FTS5 seeks to the range, PostgreSQL walks
    ``message_search_pkey`` over it alone. ``usable(q)`` must hold.
    """
    if dialect == "sqlite":
        phrase = _fts_phrase(q, since, until)
        stmt = stmt.join(_fts, _fts.c.rowid == message_id).where(
            text(f"{TABLE} MATCH :search_phrase").bindparams(search_phrase=phrase)
        )
        return within(stmt, _fts.c.rowid, bounds), _fts.c.rowid
    condition: ColumnElement[bool] = text(
        f"{TABLE}.tokens @@ CAST(:search_phrase AS tsquery)"
    ).bindparams(search_phrase=_ts_phrase(q, since, until))  # type: ignore[assignment]
    stmt = stmt.join(_pg, _pg.c.message_id == message_id).where(condition)
    return within(stmt, _pg.c.message_id, bounds), message_id


def _insert_sql(dialect: str) -> str:
    if dialect == "sqlite":
        return f"INSERT INTO {TABLE} (rowid, tokens) VALUES (:id, :tokens)"
    return f"INSERT INTO {TABLE} (message_id, tokens) VALUES (:id, to_tsvector('simple', :tokens))"


def index_rows(connection: Connection, rows: Iterable[tuple[int, str | None, Any]]) -> int:
    """Index (message id, text, created_at) rows on a synchronous connection; returns how many.

    The month token comes first (migration 0007's triggers rewrite it when created_at
    changes); texts with no bigram are not indexed (no query can match them).
    """
    params = []
    for message_id, value, created_at in rows:
        if grams := tokens(value):
            params.append({"id": message_id, "tokens": f"{month_token(created_at)} {grams}"})
    if params:
        connection.execute(text(_insert_sql(connection.dialect.name)), params)
    return len(params)


def index_message(
    connection: Connection, message_id: int, value: str | None, created_at: datetime | None
) -> None:
    """Index one newly inserted message (called from the Message insert hook)."""
    index_rows(connection, [(message_id, value, created_at)])


async def forget(session: AsyncSession, message_ids: Select[Any] | Sequence[int]) -> None:
    """Remove messages from the index (before their texts are erased)."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(_fts.delete().where(_fts.c.rowid.in_(message_ids)))
    else:
        await session.execute(_pg.delete().where(_pg.c.message_id.in_(message_ids)))


def backfill(connection: Connection, batch: int = 5000) -> int:
    """Index every message that has a text (used by migration 0007); returns how many."""
    done, last = 0, 0
    while True:
        rows = connection.execute(
            text("SELECT id, text, created_at FROM messages WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": batch},
        ).all()
        if not rows:
            break
        done += index_rows(connection, [(r[0], r[1], r[2]) for r in rows])
        last = rows[-1][0]
    logger.info("indexed %d existing messages for search", done)
    return done
