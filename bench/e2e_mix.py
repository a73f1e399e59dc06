"""End to end over a realistic mix: webhook → NLU → handler → reply, beside the raw Rasa ceiling.

In one run: (1) the raw `POST /model/parse` ceiling on the mix's texts (closed loop, a few
in flight, spread over the Rasa URLs); (2) the mix sent open-loop at several shares of that
ceiling through `POST /webhooks/generic` (signed), each reply timed at a local receiver;
(3) how many messages skipped Rasa or hit the parse cache; (4) each process's memory at
rest and under load. Prints a Markdown summary at the end; asserts nothing.

    .venv/bin/python bench/e2e_mix.py --quick                 # starts web + worker itself
    .venv/bin/python bench/e2e_mix.py --loads 25,50,75,100,125 --seconds 60
    .venv/bin/python bench/e2e_mix.py --web URL[,URL] --receiver-port P --db-url URL \
        --pid web-1=PID ...                                   # a running deployment

The service it starts: `linli serve --role web` and `--role worker` processes on SQLite
(or a fresh PostgreSQL database beside --postgres URL, dropped afterwards), an embedded
Redis, Rasa at LINLI_NLU_URL (default :5005).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (
    Receiver,
    Service,
    cpu_seconds,
    drop_postgres,
    fresh_postgres,
    fresh_sqlite,
    machine_line,
    markdown_table,
    pct,
    pid_listening,
    rss_mib,
    service_env,
    signed_body,
    workdir,
)
from mix import Mix

from nlu.normalize import normalize


async def ceiling(
    urls: list[str], texts: list[str], total: int, in_flight: int
) -> tuple[float, float]:
    """Raw /model/parse: parses per second and p50 (ms), `in_flight` requests at a time."""
    normed = [normalize(t).text or t for t in texts]
    counter = iter(range(total))
    spread = itertools.cycle(urls)
    latencies: list[float] = []
    async with aiohttp.ClientSession() as session:

        async def parse(text: str) -> None:
            async with session.post(f"{next(spread)}/model/parse", json={"text": text}) as r:
                r.raise_for_status()
                await r.read()

        for text in normed[: 2 * len(urls)]:
            await parse(text)  # warm-up

        async def loop() -> None:
            for i in counter:
                started = time.perf_counter()
                await parse(normed[i % len(normed)])
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(in_flight)))
    return total / (time.perf_counter() - started), pct(latencies, 50)


@dataclass
class LoadResult:
    """What one offered load produced."""

    sent: int
    replied: int
    errors: int
    throughput: float
    acks: list[float]
    replies: list[float]
    mem: dict[str, float | None]


async def offered(
    webs: list[str],
    receiver: Receiver,
    mix: Mix,
    rate: float,
    seconds: float,
    drain: float,
    sample: dict[str, int | None] | None,
) -> LoadResult:
    """Send the mix open-loop at `rate` messages/s for `seconds`; time acks and replies."""
    run = uuid.uuid4().hex[:6]
    acks: list[float] = []
    replies: list[float] = []
    errors = 0
    spread = itertools.cycle(webs)
    mem: dict[str, float | None] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(due: float) -> None:
            nonlocal errors
            conv, text = mix.next_turn(run)
            mid = f"{run}-{uuid.uuid4().hex[:12]}"
            body, headers = signed_body(mid, conv.user, text)
            waiter = receiver.expect(mid)
            try:
                async with session.post(f"{next(spread)}/webhooks/generic", data=body,
                                        headers=headers) as resp:  # fmt: skip
                    await resp.read()
                    acks.append(time.perf_counter() - due)
                    if resp.status != 200:
                        errors += 1
                        return
                reply = await asyncio.wait_for(waiter, timeout=seconds + drain)
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
                return
            replies.append(receiver.replies[mid] - due)
            mix.replied(conv, reply)

        started = time.perf_counter()
        tasks = []
        for i in itertools.count():
            due = started + i / rate
            if due - started >= seconds:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            tasks.append(asyncio.create_task(one(due)))
            if sample is not None and not mem and due - started >= seconds / 2:
                mem = rss_mib(sample)
        await asyncio.gather(*tasks)
        last = max(receiver.replies.values(), default=started)
    throughput = len(replies) / max(1e-9, last - started)
    return LoadResult(len(tasks), len(replies), errors, throughput, acks, replies, mem)


async def skip_share(db_url: str, since: float) -> tuple[int, int, int]:
    """Inbound messages processed since a time: total, those that skipped Rasa, from the cache."""
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from storage.db import create_engine, session_factory
    from storage.messages import Message

    engine = create_engine(db_url)
    start = datetime.fromtimestamp(since, UTC)
    # processed ones only: a message still waiting has no reading yet either
    inbound = (
        Message.direction == "in",
        Message.created_at >= start,
        Message.processed_at.isnot(None),
    )
    async with session_factory(engine)() as s:
        total = await s.scalar(select(func.count()).where(*inbound)) or 0
        skipped = await s.scalar(select(func.count()).where(*inbound, Message.nlu.is_(None))) or 0
        rows = (await s.scalars(select(Message.nlu).where(*inbound, Message.nlu.isnot(None)))).all()
    await engine.dispose()
    cached = sum(1 for raw in rows if raw and json.loads(raw).get("cache"))
    return total, skipped, cached


async def bench(
    args: argparse.Namespace,
    webs: list[str],
    receiver: Receiver,
    db_url: str | None,
    pids: dict[str, int | None],
) -> None:
    """The whole run: ceiling, loads, cache shares, memory; then the summary tables."""
    nlu_urls = [u.rstrip("/") for u in args.nlu.split(",")]
    mix = Mix(unique=args.unique)
    texts = mix.weighted_texts(500)
    print(machine_line())
    at_rest = rss_mib(pids)
    raw_rate, raw_p50 = await ceiling(nlu_urls, texts, args.ceiling_parses, args.in_flight)
    print(f"raw /model/parse ceiling: {raw_rate:.1f} parses/s (p50 {raw_p50:.0f} ms, "
          f"{args.in_flight} in flight, {len(nlu_urls)} Rasa)")  # fmt: skip
    since = time.time() - 1
    rows: list[list[object]] = []
    under_load: dict[str, float | None] = {}
    best = 0.0
    replied, cpu_before = 0, cpu_seconds(pids)
    for share in [int(s) for s in args.loads.split(",")]:
        rate = raw_rate * share / 100
        res = await offered(webs, receiver, mix, rate, args.seconds, args.drain,
                            pids if share == 100 else None)  # fmt: skip
        under_load = res.mem or under_load
        replied += res.replied
        acks, reps = res.acks, res.replies
        best = max(best, res.throughput)
        row: list[object] = [f"{share}% ({rate:.1f}/s)", res.sent, res.replied, res.throughput,
               pct(reps, 50), pct(reps, 95), pct(reps, 99), pct(acks, 99)]  # fmt: skip
        print(" ".join(str(round(v, 1)) if isinstance(v, float) else str(v) for v in row),
              f"errors={res.errors}", flush=True)  # fmt: skip
        rows.append(row)
    cpu_after = cpu_seconds(pids)
    per = 1000 / max(1, replied)
    cpu_ms = {n: per * (t - cpu_before.get(n, 0.0)) for n, t in cpu_after.items()}
    print("\n" + machine_line())
    print(f"\nRaw ceiling {raw_rate:.1f} parses/s; turns sent by kind: {mix.sent}\n")
    print(markdown_table(["offered (share of ceiling)", "sent", "replied", "replies/s",
                          "reply p50 ms", "p95 ms", "p99 ms", "ack p99 ms"], rows))  # fmt: skip
    print(f"\nmax throughput {best:.1f} replies/s = {100 * best / raw_rate:.0f}% of the raw "
          f"ceiling (target >= 80%)")  # fmt: skip
    if db_url:
        total, skipped, cached = await skip_share(db_url, since)
        pc = 100 / max(1, total)
        print(f"\nprocessed inbound {total}: skipped Rasa {skipped} ({pc * skipped:.0f}%), "
              f"parse cache {cached} ({pc * cached:.0f}%), "
              f"sent to Rasa {total - skipped - cached}")  # fmt: skip
    print("\n" + markdown_table(
        ["process", "RSS at rest MiB", "RSS under load (100%) MiB", "CPU ms per reply"],
        [[name, at_rest.get(name) or "-", under_load.get(name) or "-", cpu_ms.get(name, "-")]
         for name in pids],
    ))  # fmt: skip
    print("CPU per reply (user + system over all the loads, divided by the replies) does not")
    print("depend on the load of a shared machine: the cores it takes is the capacity question.")


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="loads 50,100 for 15 s each")
    p.add_argument(
        "--unique",
        action="store_true",
        help="no text repeats (each gets a numbered tail): the parse cache never answers",
    )
    p.add_argument("--loads", default="25,50,75,100,125", help="percent of the raw ceiling")
    p.add_argument("--seconds", type=float, default=60, help="sending time per load")
    p.add_argument("--drain", type=float, default=60, help="wait this long for late replies")
    p.add_argument("--ceiling-parses", type=int, default=600)
    p.add_argument("--in-flight", type=int, default=4)
    p.add_argument("--nlu", default=os.environ.get("LINLI_NLU_URL", "http://127.0.0.1:5005"))
    p.add_argument("--web", help="target running web processes (comma-separated URLs)")
    p.add_argument("--receiver-port", type=int, help="with --web: where replies are posted")
    p.add_argument("--db-url", help="with --web: the database, to count skipped/cached parses")
    p.add_argument("--pid", action="append", default=[], help="NAME=PID for memory figures")
    p.add_argument("--workers", type=int, default=1, help="worker processes it starts")
    p.add_argument("--postgres", help="run on a fresh PostgreSQL database beside this URL")
    args = p.parse_args()
    if args.quick:
        args.loads, args.seconds, args.ceiling_parses, args.drain = "50,100", 15, 150, 30
    return args


async def main_async(args: argparse.Namespace) -> None:
    """Target given URLs, or start web + worker processes and run against them."""
    rasa = {f"rasa-{i + 1}": pid_listening(int(u.rsplit(":", 1)[1].strip("/")))
            for i, u in enumerate(args.nlu.split(","))}  # fmt: skip
    if args.web:
        receiver = Receiver(port=args.receiver_port)
        await receiver.start()
        pids: dict[str, int | None] = {}
        for item in args.pid:
            name, pid = item.split("=")
            pids[name] = int(pid)
        await bench(args, args.web.split(","), receiver, args.db_url, {**pids, **rasa})
        await receiver.stop()
        return
    with workdir() as wd:
        from storage.embedded_redis import EmbeddedRedis

        if args.postgres:
            db_url = await asyncio.to_thread(fresh_postgres, args.postgres)
        else:
            db_url = await asyncio.to_thread(fresh_sqlite, wd)
        redis = EmbeddedRedis(wd / "redis", appendonly=False)
        redis_url = redis.start()
        receiver = Receiver()
        await receiver.start()
        service = Service(service_env(wd, db_url, redis_url, args.nlu, receiver.url), wd / "logs")
        service.start("web", "web")
        for i in range(args.workers):
            service.start("worker", f"worker-{i + 1}")
        try:
            await service.wait_ready()
            pids = {n: p.pid for n, p in service.procs.items()}
            pids["redis"] = redis.process.pid if redis.process else None
            await bench(args, service.web_urls, receiver, db_url, {**pids, **rasa})
        finally:
            service.stop()
            await receiver.stop()
            redis.stop()
            if args.postgres:
                drop_postgres(db_url)
        print(f"\n(database {db_url.split(':')[0]}; logs in {wd / 'logs'})")


if __name__ == "__main__":
    asyncio.run(main_async(parse_args()))
