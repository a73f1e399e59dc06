"""Receive-to-200 and receive-to-reply latency of the generic connector, end to end.

Starts the real app (web + worker) on SQLite (or LINLI_DATABASE_URL) and an embedded
Redis in a temporary directory, with a local reply receiver, and talks to a Rasa server
(LINLI_NLU_URL, or one it starts with the current model). Prints figures; asserts nothing.

    .venv/bin/python bench/webhook_latency.py [--quick] [--messages N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import create_app
from bot.connectors.signing import signed_headers
from storage.migrate import upgrade
from tests.support import SECRET, make_settings, seed_demo

TEXTS = ["东关中巷的路灯坏了", "1", "查询", "你好", "幸福里小区垃圾没人收", "算了"]


def pct(values: list[float], q: float) -> float:
    """The q-th percentile in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] * 1000


def report(name: str, values: list[float]) -> None:
    """Print p50/p95/p99/max of a latency sample."""
    print(
        f"{name:<18} n={len(values):<5} p50={pct(values, 50):7.1f} ms"
        f"  p95={pct(values, 95):7.1f} ms"
        f"  p99={pct(values, 99):7.1f} ms  max={max(values) * 1000:7.1f} ms"
        f"  mean={statistics.mean(values) * 1000:7.1f} ms"
    )


async def run(args: argparse.Namespace, nlu_url: str) -> None:
    """Send messages from many residents and time the 200 and the reply of each."""
    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    db_url = os.environ.get("LINLI_DATABASE_URL") or f"sqlite+aiosqlite:///{workdir}/bench.db"
    await asyncio.to_thread(upgrade, db_url)
    await seed_demo(db_url)
    sent_at: dict[str, float] = {}
    reply_latency: list[float] = []
    done = asyncio.Event()

    async def receive(request: web.Request) -> web.Response:
        data = json.loads(await request.read())
        started = sent_at.pop(data.get("reply_to") or "", None)
        if started is not None:
            reply_latency.append(time.perf_counter() - started)
            if len(reply_latency) >= args.messages:
                done.set()
        return web.json_response({"ok": True})

    receiver = web.Application()
    receiver.router.add_post("/outbound", receive)
    rec_runner = web.AppRunner(receiver, access_log=None)
    await rec_runner.setup()
    await web.TCPSite(rec_runner, "127.0.0.1", 18089).start()
    from storage.embedded_redis import EmbeddedRedis

    redis = EmbeddedRedis(workdir / "redis", appendonly=False)
    settings = make_settings(workdir, db_url, redis.start(), nlu_url,
                             "http://127.0.0.1:18089/outbound")  # fmt: skip
    app_runner = web.AppRunner(create_app(settings), access_log=None)
    await app_runner.setup()
    await web.TCPSite(app_runner, "127.0.0.1", 18080).start()
    ack_latency: list[float] = []
    slots = asyncio.Semaphore(args.concurrency)

    async def one(session: aiohttp.ClientSession, index: int) -> None:
        user = f"bench-{index % max(1, args.messages // len(TEXTS))}"
        mid = uuid.uuid4().hex
        body = json.dumps({"message_id": mid, "user_id": user, "chat_id": user,
                           "text": TEXTS[index % len(TEXTS)],
                           "timestamp": int(time.time())}, ensure_ascii=False).encode()  # fmt: skip
        async with slots if not args.rate else contextlib.nullcontext():
            start = time.perf_counter()
            sent_at[mid] = start
            async with session.post("http://127.0.0.1:18080/webhooks/generic", data=body,
                                    headers=signed_headers(SECRET, body)) as resp:  # fmt: skip
                await resp.read()
                ack_latency.append(time.perf_counter() - start)
                assert resp.status == 200

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        if args.rate:  # open loop: a new message every 1/rate seconds, whatever the answers
            pending = []
            for i in range(args.messages):
                pending.append(asyncio.create_task(one(session, i)))
                await asyncio.sleep(1 / args.rate)
            await asyncio.gather(*pending)
        else:
            await asyncio.gather(*(one(session, i) for i in range(args.messages)))
    try:
        await asyncio.wait_for(done.wait(), timeout=300)
    except TimeoutError:
        print(f"only {len(reply_latency)} of {args.messages} replies within 300 s")
    elapsed = time.perf_counter() - started
    print(f"machine: {os.cpu_count()} cores; database: {db_url.split(':')[0]}; NLU: {nlu_url}")
    load = f"offered {args.rate}/s" if args.rate else f"{args.concurrency} in flight"
    print(f"{args.messages} messages, {load}, {elapsed:.1f} s, "
          f"{len(reply_latency) / elapsed:.1f} replies/s")  # fmt: skip
    report("receive-to-200", ack_latency)
    if reply_latency:
        report("receive-to-reply", reply_latency)
    await app_runner.cleanup()
    await rec_runner.cleanup()
    redis.stop()


def main() -> None:
    """Parse arguments, find or start Rasa, run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 messages")
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, help="offered load in messages/s (open loop)")
    args = parser.parse_args()
    if args.quick:
        args.messages = 60
    nlu_url = os.environ.get("LINLI_NLU_URL")
    server = None
    if not nlu_url:
        from nlu.rasa_process import RasaServer
        from nlu.train import train

        server = RasaServer(train())
        server.start()
        server.wait_ready(300)
        nlu_url = server.url
    try:
        asyncio.run(run(args, nlu_url))
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
