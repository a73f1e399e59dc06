"""Admin search and ticket-board latency over seeded data, on SQLite and PostgreSQL.

Seeds 1,000,000 messages and 100,000 tickets (bench/admin_seed.py) into a fresh SQLite
file and a fresh PostgreSQL database, caches both under var/bench/ (SQLite) and as a
template database (PostgreSQL) keyed by size, then starts the real app (web role, as
tests/conftest.py builds it) and times GET /api/messages and GET /api/tickets the way the
console issues them (the console's pages call the same query functions). Prints p50/p95/p99
per query per database; asserts nothing.

    .venv/bin/python bench/admin_queries.py [--quick] [--db sqlite,postgres] [--runs 40]
    PostgreSQL server: LINLI_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/postgres)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import admin_writers as writers
from bench.admin_seed import NOW
from bot.app import create_app
from tests.support import make_settings

TOKEN = "bench-admin-token-0123456789abcdefghijk"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
DAY = timedelta(days=1)
SEARCHES: tuple[tuple[str, dict[str, str]], ...] = (
    ("common 2 路灯", {"q": "路灯"}),
    ("common 2 垃圾", {"q": "垃圾"}),
    ("common 3 不亮了", {"q": "不亮了"}),
    ("common 4 路灯坏了", {"q": "路灯坏了"}),
    ("trad 4 路燈壞了", {"q": "路燈壞了"}),
    ("mixed 3号楼", {"q": "3号楼"}),
    ("rare 5 暖气片漏水", {"q": "暖气片漏水"}),
    ("rare 2 坡道", {"q": "坡道"}),
    ("rare 4 无障碍坡", {"q": "无障碍坡"}),
    ("none 4 量子纠缠", {"q": "量子纠缠"}),
    ("none 2 鲸鱼", {"q": "鲸鱼"}),
    ("路灯 + wecom", {"q": "路灯", "platform": "wecom"}),
    ("路灯 + in + 0.9", {"q": "路灯", "direction": "in", "min_confidence": "0.9"}),
    ("路灯 + last 30 d", {"q": "路灯", "since": (NOW - 30 * DAY).isoformat()}),
    ("路灯 + 200-170 d ago", {"q": "路灯", "since": (NOW - 200 * DAY).isoformat(),
                              "until": (NOW - 170 * DAY).isoformat()}),
    ("暖气片 + wechat", {"q": "暖气片", "platform": "wechat"}),
    ("路灯 page 5", {"q": "路灯", "page": "5"}),
    ("不亮了 page 5", {"q": "不亮了", "page": "5"}),
    ("1 char 灯", {"q": "灯"}),
    ("灯 + 200-170 d ago", {"q": "灯", "since": (NOW - 200 * DAY).isoformat(),
                           "until": (NOW - 170 * DAY).isoformat()}),
    ("no q (all)", {}),
    ("no q + 200-170 d ago", {"since": (NOW - 200 * DAY).isoformat(),
                              "until": (NOW - 170 * DAY).isoformat()}),
)  # fmt: skip
BOARD: tuple[tuple[str, dict[str, str]], ...] = (
    ("board all", {}),
    ("status submitted", {"status": "submitted"}),
    ("status in_progress", {"status": "in_progress"}),
    ("grid G02", {"grid": "G02"}),
    ("grid B07 accepted", {"grid": "B07", "status": "accepted"}),
    ("colour red", {"colour": "red"}),
    ("colour yellow", {"colour": "yellow"}),
    ("colour green G01", {"colour": "green", "grid": "G01"}),
    ("gas submitted", {"category": "gas", "status": "submitted"}),
    ("callback", {"callback": "true"}),
    ("resolved page 5", {"status": "resolved", "page": "5"}),
)  # fmt: skip


def pct(values: list[float], q: float) -> float:
    """The q-th percentile in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000


async def _get(client: TestClient, path: str, params: dict[str, str]) -> dict[str, Any]:
    resp = await client.get(f"{path}?{urlencode(params)}", headers=ADMIN)
    if resp.status != 200:
        raise RuntimeError(f"{path} {params}: {resp.status} {await resp.text()}")
    return dict(await resp.json())


async def time_query(
    client: TestClient, path: str, params: dict[str, str], runs: int
) -> tuple[list[float], int]:
    """Latencies of one query (after 2 warm-ups) and how many items its page had."""
    params = dict(params)
    for _ in range(int(params.pop("page", "1")) - 1):  # later pages: follow the cursor
        if (following := (await _get(client, path, params))["next"]) is None:
            break  # fewer pages than asked: time the last one
        params["cursor"] = str(following)
    found = 0
    for _ in range(2):
        found = len((await _get(client, path, params))["items"])
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await _get(client, path, params)
        samples.append(time.perf_counter() - started)
    return samples, found


async def measure(kind: str, url: str, args: argparse.Namespace) -> None:
    """Start the app on a seeded database and print every query's figures."""
    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-admin-"))
    redis_url = os.environ.get("LINLI_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
    settings = make_settings(workdir, url, redis_url, "http://127.0.0.1:9", None)
    app = create_app(settings.model_copy(update={"admin_token": TOKEN}), worker_role=False)
    client = TestClient(TestServer(app))
    await client.start_server()
    print(f"\n{kind}: {args.messages:,} messages, {args.tickets:,} tickets, {args.runs} runs each")
    print(f"{'query':<24}{'items':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    try:
        for path, queries in (("/api/messages", SEARCHES), ("/api/tickets", BOARD)):
            for name, params in queries:
                samples, found = await time_query(client, path, {**params, "limit": "50"},
                                                  args.runs)  # fmt: skip
                print(f"{name:<24}{found:>6}{pct(samples, 50):>9.1f}{pct(samples, 95):>9.1f}"
                      f"{pct(samples, 99):>9.1f}{statistics.mean(samples) * 1000:>9.1f}",
                      flush=True)  # fmt: skip
    finally:
        await client.close()


async def main(args: argparse.Namespace) -> None:
    """Seed (or reuse) each database, then measure it."""
    print(f"load average before: {os.getloadavg()}")
    for kind in args.db.split(","):
        if kind == "sqlite":
            url = await writers.cached_sqlite(args.messages, args.tickets, args.reseed)
            await measure(kind, url, args)
            continue
        base = make_url(args.pg)
        template = await writers.cached_postgres(base, args.messages, args.tickets, args.reseed)
        url = await writers.fresh_copy(base, template)
        try:
            await measure(kind, url, args)
        finally:
            await writers.drop(base, make_url(url).database or "")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 messages, 2,000 tickets")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40, help="timed requests per query")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--reseed", action="store_true", help="ignore the cached databases")
    parser.add_argument("--pg", default=os.environ.get(
        "LINLI_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"))  # fmt: skip
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.messages, parsed.tickets, parsed.runs = 20_000, 2_000, 20
    asyncio.run(main(parsed))
