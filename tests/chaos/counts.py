"""Counting a chaos run: sent, processed, replied, lost and duplicated, from SQL and the platform."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, select

from storage.db import create_engine, session_factory
from storage.messages import DONE, FAILED, PENDING, RECEIVED, SENDING, Message
from storage.tickets import Ticket
from tests.chaos.stack import Platform

REPORT = Path(__file__).resolve().parents[2] / "var" / "chaos-report.json"
LINES: list[str] = []  # this session's count lines, printed in the terminal summary


@dataclass
class Counts:
    """What one scenario sent and what came of it."""

    scenario: str
    database: str
    sent: int
    processed: int
    replied: int
    lost: int
    duplicated: int
    resent: int  # the same reply (same id) posted again after a crash mid-send
    dead_letters: int
    seconds: float

    def line(self) -> str:
        """One printable line."""
        return (
            f"chaos {self.scenario} [{self.database}]: sent {self.sent}, processed "
            f"{self.processed}, replied {self.replied}, lost {self.lost}, duplicated "
            f"{self.duplicated} (same reply id resent {self.resent}, dead letters "
            f"{self.dead_letters}) in {self.seconds:.0f} s"
        )


async def _sql(db_url: str) -> dict[str, object]:
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            inbound = (
                await session.execute(
                    select(Message.platform_msg_id, Message.status).where(Message.direction == "in")
                )
            ).all()
            outbound = (
                await session.execute(
                    select(Message.reply_to_id, Message.conversation_id, Message.text).where(
                        Message.direction == "out"
                    )
                )
            ).all()
            tickets = (
                await session.execute(
                    select(Ticket.source_message_id, func.count())
                    .where(Ticket.source_message_id.is_not(None))
                    .group_by(Ticket.source_message_id)
                )
            ).all()
            busy = await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.status.in_((RECEIVED, PENDING, SENDING)))
            )
            dead = await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.direction == "out", Message.status == FAILED)
            )
    finally:
        await engine.dispose()
    return {"inbound": inbound, "outbound": outbound, "tickets": tickets, "busy": busy,
            "dead": dead}  # fmt: skip


async def settle(db_url: str, platform: Platform, within: float = 300.0) -> None:
    """Wait (bounded) until every sent message has a reply and nothing is queued or sending."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if platform.replied_ids() >= set(platform.sent):
            sql = await _sql(db_url)
            if sql["busy"] == 0:
                await asyncio.sleep(2)  # a late duplicate would show up now
                return
        await asyncio.sleep(0.5)


async def count(
    scenario: str, database: str, db_url: str, platform: Platform, started: float
) -> Counts:
    """Count the run; lost and duplicated are what the scenario asserts to be 0."""
    sql = await _sql(db_url)
    stored = {mid: status for mid, status in sql["inbound"]}  # type: ignore[attr-defined]
    sent = set(platform.sent)
    replied = platform.replied_ids()
    posts = platform.receiver.posts
    by_id = {p["message_id"]: p for p in posts}
    resent = len(posts) - len(by_id)
    same_reply = Counter((p.get("reply_to"), p["user_id"], p["text"]) for p in by_id.values())
    same_row = Counter(sql["outbound"])  # type: ignore[arg-type]
    stored_twice = Counter(mid for mid, _ in sql["inbound"])  # type: ignore[attr-defined]
    duplicated = (
        sum(n - 1 for n in same_reply.values())
        + sum(n - 1 for n in same_row.values())
        + sum(n - 1 for _, n in sql["tickets"])  # type: ignore[attr-defined]
        + sum(n - 1 for n in stored_twice.values())
    )
    lost = len([m for m in sent if m not in stored or m not in replied])
    for what, seen in (
        ("the same reply posted twice", same_reply),
        ("the same reply stored twice", same_row),
        ("one message stored twice", stored_twice),
        ("tickets from one message", dict(sql["tickets"])),  # type: ignore[arg-type]
    ):
        twice = [key for key, n in seen.items() if n > 1][:3]
        if twice:
            print(f"{scenario} [{database}] {what}: {twice}")
    counts = Counts(
        scenario=scenario,
        database=database,
        sent=len(sent),
        processed=sum(1 for m in sent if stored.get(m) == DONE),
        replied=len(replied & sent),
        lost=lost,
        duplicated=duplicated,
        resent=resent,
        dead_letters=int(sql["dead"]),  # type: ignore[call-overload]
        seconds=time.monotonic() - started,
    )
    print(counts.line())
    LINES.append(counts.line())
    _append(counts)
    return counts


def _append(counts: Counts) -> None:
    """Add the counts to var/chaos-report.json (the latest run of each scenario and database)."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = json.loads(REPORT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = {}
    report[f"{counts.scenario}/{counts.database}"] = {**asdict(counts), "at": time.time()}
    REPORT.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
