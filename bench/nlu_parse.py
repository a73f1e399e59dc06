"""Parse latency and throughput of Rasa's POST /model/parse: raw HTTP ceiling vs nlu.client.

Sends a realistic mix of resident messages (short answers, reports, questions, long
voice-to-text run-ons, traditional characters, emoji), normalised as the service does,
in a closed loop at each concurrency level, and prints p50/p95/p99 latency and
throughput. Asserts nothing.

    .venv/bin/python bench/nlu_parse.py --url http://127.0.0.1:5015 [--quick]
    .venv/bin/python bench/nlu_parse.py --start      # starts its own Rasa with the current model
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlu.client import NLUClient
from nlu.normalize import normalize
from nlu.rasa_process import RasaServer
from nlu.train import train

MESSAGES = [
    "1",
    "2",
    "对",
    "不用了",
    "在吗",
    "谢谢你们",
    "转人工",
    "查询",
    "东关中巷的路灯坏了",
    "幸福里小区垃圾三天没人收了 臭死了",
    "五号楼门口井盖没了 晚上看不见很危险",
    "楼道里一股煤气味 是不是漏气了",
    "楼上天天半夜装修 吵得睡不着",
    "厨房下水道堵了 水漫出来了",
    "想给我爸约个康复训练 下周二上午行吗",
    "明天的康复去不了了",
    "我妈一个人在家 能不能派人来做个饭",
    "我爸需要一个轮椅怎么申请",
    "家里卫生间想装个扶手",
    "残疾证到期了要换",
    "有没有适合残疾人的工作",
    "孩子想要一套课外书",
    "周六的义诊怎么报名",
    "我上周报的路灯修好了没 工单1003",
    "说好的上门一直没人来 你们怎么回事",
    "居家养老一个月能服务多少小时",
    "吉康之家几点开门",
    "微心愿是什么意思",
    "路燈壞了好幾天了",
    "求求了快来修修吧😭😭",
    "今天股票会涨吗",
    "喂你好我是安康小区的我们那个3号楼2单元楼道的灯坏了一个多礼拜了我妈晚上下楼倒垃圾"
    "摸黑差点摔了一跤你们赶紧找人来看看吧电话13912345678",
    "我家老爷子八十多了腿脚不好一个人住子女都在外地想问问他能不能享受政府出钱的上门服务"
    "要是能的话一个月能来几次都能干些啥",
]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


async def closed_loop(
    parse: Callable[[str], Awaitable[object]], texts: list[str], total: int, concurrency: int
) -> tuple[list[float], float]:
    """Send `total` parses with `concurrency` in flight; return latencies (s) and wall time."""
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            started = time.perf_counter()
            await parse(texts[i % len(texts)])
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


async def bench(url: str, total: int, levels: list[int]) -> None:
    """Measure the raw endpoint and the client at each concurrency level and print a table."""
    texts = [normalize(m).text for m in MESSAGES]
    print(f"server {url}; {len(texts)} distinct texts; {total} parses per row; closed loop")
    print(f"{'path':<8} {'in flight':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'parses/s':>9}")
    async with aiohttp.ClientSession() as session, NLUClient([url], timeout=60.0) as client:

        async def raw(text: str) -> object:
            async with session.post(f"{url}/model/parse", json={"text": text}) as resp:
                resp.raise_for_status()
                return await resp.json(content_type=None)

        for text in texts:  # warm-up: first parses load lazily
            await raw(text)
        for concurrency in levels:
            for name, parse in (("raw", raw), ("client", client.parse)):
                lat, wall = await closed_loop(parse, texts, total, concurrency)
                print(
                    f"{name:<8} {concurrency:>9} {percentile(lat, 50):8.1f} "
                    f"{percentile(lat, 95):8.1f} {percentile(lat, 99):8.1f} {total / wall:9.1f}"
                )
        mean = statistics.mean(len(t) for t in texts)
        print(f"mean text length {mean:.0f} characters; load average {os.getloadavg()[0]:.1f}")


def main() -> int:
    """Parse arguments, find or start a server, run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("LINLI_NLU_URL", "http://127.0.0.1:5005"))
    parser.add_argument("--start", action="store_true", help="start a Rasa server of our own")
    parser.add_argument("--quick", action="store_true", help="100 parses, concurrency 1 and 4")
    parser.add_argument("--requests", type=int, default=400, help="parses per row")
    parser.add_argument("--concurrency", default="1,4,8", help="comma-separated levels")
    args = parser.parse_args()
    total = 100 if args.quick else args.requests
    levels = [1, 4] if args.quick else [int(c) for c in args.concurrency.split(",")]
    if args.start:
        with RasaServer(train()) as server:
            asyncio.run(bench(server.url, total, levels))
    else:
        asyncio.run(bench(args.url.split(",")[0].rstrip("/"), total, levels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
