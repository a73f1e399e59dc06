"""`linli outbox failed` and `linli outbox retry <id>|--all`: dead letters staff can retry."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.config import load_settings
from storage.db import create_engine, session_factory
from storage.dead_letters import DeadLetter, failed_deliveries, retry_failed


def _mask(user_id: str) -> str:
    """A platform user id shortened for a screen (enough to tell users apart)."""
    return user_id if len(user_id) <= 8 else f"{user_id[:4]}…{user_id[-4:]}"


def format_dead_letter(d: DeadLetter) -> str:
    """One line of `linli outbox failed`."""
    text = " ".join(d.text.split())
    text = text if len(text) <= 30 else text[:29] + "…"
    when = d.created_at.strftime("%Y-%m-%d %H:%M")
    return (
        f"{d.message_id:>7}  {when}  {d.platform:<8} {_mask(d.user_id):<10} "
        f"attempts={d.attempts}  {text}\n         last_error: {d.last_error or '-'}"
    )


async def _run(database_url: str, work: Any) -> Any:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def cmd_outbox(args: argparse.Namespace) -> int:
    """List dead letters, or put them back in the outbox."""
    settings = load_settings()
    if args.outbox_command == "failed":
        letters: list[DeadLetter] = asyncio.run(
            _run(settings.database_url, lambda s: failed_deliveries(s, args.limit))
        )
        for letter in letters:
            print(format_dead_letter(letter))
        print(f"{len(letters)} failed message(s)")
        return 0
    if not args.all and not args.ids:
        print("linli outbox retry: give message ids or --all")
        return 2
    ids = None if args.all else list(args.ids)
    count = asyncio.run(_run(settings.database_url, lambda s: retry_failed(s, ids)))
    print(f"{count} message(s) back in the outbox; a running server sends them shortly")
    return 0 if count or args.all else 1


def add_commands(sub: Any) -> None:
    """Add `outbox failed` and `outbox retry` to the linli parser."""
    outbox = sub.add_parser("outbox", help="dead letters: list failed sends, retry them")
    commands = outbox.add_subparsers(dest="outbox_command", required=True)
    failed = commands.add_parser("failed", help="list messages the outbox gave up on")
    failed.add_argument("--limit", type=int, default=100)
    retry = commands.add_parser("retry", help="send failed messages again (attempts reset)")
    retry.add_argument("ids", nargs="*", type=int, help="message ids from `outbox failed`")
    retry.add_argument("--all", action="store_true", help="every failed message")
    outbox.set_defaults(func=cmd_outbox)
