"""SQL statements per message on the hot path, counted with a SQLAlchemy event listener.

Runs the app in this process (web + worker, an embedded Redis, SQLite or --db-url, Rasa at
LINLI_NLU_URL), sends the end-to-end mix one message at a time (each waits for its reply)
and counts the statements each message costs: in the webhook (store + queue) and in the
worker (NLU → handler → replies committed, plus the reply's delivery). Prints the counts by
kind of turn and the most frequent statements; asserts nothing.

    .venv/bin/python bench/sql_per_message.py [--messages 60] [--db-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (
    Receiver,
    free_port,
    fresh_sqlite,
    markdown_table,
    service_env,
    signed_body,
    workdir,
)
from mix import Mix

from bot.app import create_app
from bot.config import load_settings
from bot.runtime import RUNTIME


def shape(statement: str) -> str:
    """A statement without its literal values, cut short, for grouping."""
    text = re.sub(r"\s+", " ", statement).strip()
    text = re.sub(r"\((?:\?|\$\d+)(?:, (?:\?|\$\d+))*\)", "(…)", text)
    return text[:110]


async def run(args: argparse.Namespace) -> None:
    """Send the mix turn by turn and count statements per message."""
    with workdir() as wd:
        from storage.embedded_redis import EmbeddedRedis

        db_url = args.db_url or await asyncio.to_thread(fresh_sqlite, wd)
        redis = EmbeddedRedis(wd / "redis", appendonly=False)
        receiver = Receiver()
        await receiver.start()
        nlu = os.environ.get("LINLI_NLU_URL", "http://127.0.0.1:5005")
        env = service_env(wd, db_url, redis.start(), nlu, receiver.url)
        app = create_app(load_settings(env))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append(statement)

        event.listen(app[RUNTIME].engine.sync_engine, "before_cursor_execute", count)
        mix = Mix(seed=11)
        per_kind: dict[str, list[int]] = {}
        frequent: Counter[str] = Counter()
        async with aiohttp.ClientSession() as session:
            for i in range(args.messages):
                kinds_before = dict(mix.sent)
                conv, text = mix.next_turn("sql")
                kind = next(k for k, v in mix.sent.items() if v != kinds_before.get(k, 0))
                mid = f"sql-{i}"
                body, headers = signed_body(mid, conv.user, text)
                waiter = receiver.expect(mid)
                statements.clear()
                async with session.post(f"http://127.0.0.1:{port}/webhooks/generic",
                                        data=body, headers=headers) as resp:  # fmt: skip
                    await resp.read()
                webhook = len(statements)
                try:
                    reply = await asyncio.wait_for(waiter, 30)
                except TimeoutError:
                    print(f"no reply to {text!r}")
                    continue
                await asyncio.sleep(0.3)  # the delivery's own statements (marking it sent)
                per_kind.setdefault(kind, []).extend([webhook, len(statements) - webhook])
                frequent.update(shape(s) for s in statements)
                mix.replied(conv, reply)
        rows = []
        for kind, pairs in sorted(per_kind.items()):
            hooks, rest = pairs[0::2], pairs[1::2]
            rows.append([kind, len(hooks), sum(hooks) / len(hooks), sum(rest) / len(rest),
                         max(h + r for h, r in zip(hooks, rest, strict=True))])  # fmt: skip
        await runner.cleanup()
        await receiver.stop()
        redis.stop()
    print("\nmost frequent statements (all messages):")
    for text, n in frequent.most_common(args.top):
        print(f"{n:6d}  {text}")
    print(f"\n{time.strftime('%Y-%m-%d')}, database {db_url.split(':')[0]}\n")
    print(markdown_table(["turn", "messages", "webhook stmts (mean)",
                          "worker + delivery stmts (mean)", "max total"], rows))  # fmt: skip


def main() -> None:
    """Parse arguments and run."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=60)
    p.add_argument("--db-url", help="a migrated, seeded database (default: a fresh SQLite)")
    p.add_argument("--top", type=int, default=25)
    asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    main()
