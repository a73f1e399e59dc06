"""Seed data for bench/admin_queries.py: residents' conversations and a city's ticket board.

Texts are the NLU training examples (nlu/project/data/*.yml, entity marks removed) with
addresses, times and the bot's replies mixed in; one in twenty is written in traditional
characters. A few rare phrases are planted at known rates so rare searches have answers:
RARE maps each phrase to one message in how many. Rows are written straight with the
databases' bulk paths (sqlite3 executemany, asyncpg COPY); the search index uses the same
tokens as the service (storage.search.tokens).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from storage.search import month_token, tokens

REPO = Path(__file__).resolve().parent.parent
RARE = {"暖气片漏水": 20_000, "无障碍坡道": 100_000}
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
SPAN = timedelta(days=300)  # inside the default retention period of 365 days
STREETS = ("东关中巷", "东关北街", "东关南巷", "幸福里小区", "铁指江南小区", "和平路",
           "建设街", "光明巷", "桃园小区", "金伦小区", "安康小区", "南关路", "菜市场门口",
           "小学门口")  # fmt: skip
TIMES = ("今天早上", "昨天晚上", "下午三点", "这两天", "上周", "刚才", "半夜", "一大早")
REPLIES = (
    "您要反映的是【{c}】，地点：{s}。回复 1 确认提交，回复 2 修改地点。",
    "已为您登记【{c}】问题（{s}），工单号 {n}。已派给网格员处理，有进展会告诉您。",
    "您的工单 {n}【{c}】已由网格员接单，会尽快处理。",
    "您的工单 {n} 已办结，请回复 1-5 为这次服务打分。",
    "好的，已取消。还有什么可以帮您？",
)
CATEGORIES = ("streetlight", "sanitation", "road", "water", "gas", "noise", "mediation",
              "home_care", "accessibility", "complaint", "other")  # fmt: skip
CATEGORY_WORDS = ("路灯", "环境卫生", "道路", "供水", "燃气", "噪音", "矛盾调解", "居家养老")
STATUSES = (("closed", 40), ("resolved", 15), ("in_progress", 10), ("accepted", 8),
            ("assigned", 12), ("submitted", 10), ("cancelled", 3), ("duplicate", 2))  # fmt: skip
PLATFORMS = ("generic",) * 6 + ("wecom",) * 3 + ("wechat",)  # by conversation id % 10
_MARK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def examples() -> list[tuple[str, str]]:
    """(intent, text) of every training example, entity marks removed."""
    out = []
    for path in sorted((REPO / "nlu" / "project" / "data").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    out.append((block["intent"], _MARK.sub(r"\1", line.strip()[2:])))
    return out


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def platform_of(conversation: int) -> str:
    """The platform of a generated conversation (60% generic, 30% WeCom, 10% WeChat)."""
    return PLATFORMS[conversation % 10]


def messages(n: int, conversations: int, seed: int = 7) -> Iterator[tuple[Any, ...]]:
    """(id, conversation, platform, direction, text, intent, confidence, created_at) rows."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(seed)
    pool = examples()
    step = SPAN / n
    for i in range(1, n + 1):
        conv = rng.randrange(1, conversations + 1)
        platform = platform_of(conv)
        created = NOW - SPAN + step * i
        planted = [phrase for phrase, every in RARE.items() if i % every == every // 2]
        if rng.random() < 0.45 and not planted:
            text = rng.choice(REPLIES).format(
                c=rng.choice(CATEGORY_WORDS), s=rng.choice(STREETS), n=1000 + rng.randrange(10**5)
            )
            yield i, conv, platform, "out", text, None, None, created
            continue
        intent, text = rng.choice(pool)
        roll = rng.random()
        if roll < 0.3:
            text = f"{rng.choice(STREETS)}{rng.randint(1, 30)}号楼 {text}"
        elif roll < 0.5:
            text = f"{rng.choice(TIMES)}{text}"
        for phrase in planted:
            text = f"{text} 还有{phrase}"
        if rng.random() < 0.05:
            text = s2t.convert(text)
        yield i, conv, platform, "in", text, intent, round(rng.uniform(0.3, 1.0), 3), created


def tickets(n: int, grids: list[int], residents: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    """Ticket rows across statuses, grids and SLA states (due times relative to NOW)."""
    rng = random.Random(seed)
    step = SPAN / n
    statuses = tuple(STATUSES)
    for i in range(1, n + 1):
        created = NOW - SPAN + step * i
        status = _weighted(rng, statuses)
        if created > NOW - timedelta(days=5) and status in ("closed", "resolved") and i % 2:
            status = "submitted"  # the newest tickets are mostly still open
        accept_due = created + timedelta(hours=rng.choice((2, 4, 24)))
        resolve_due = created + timedelta(days=rng.choice((1, 3, 7)))
        accepted = status not in ("submitted", "assigned", "cancelled", "duplicate")
        resolved_at = (
            created + timedelta(hours=rng.uniform(2, 200)) if status in ("resolved", "closed")
            else None
        )  # fmt: skip
        yield {
            "id": i, "number": str(1000 + i), "category": rng.choice(CATEGORIES),
            "status": status, "location": rng.choice(STREETS), "grid_id": rng.choice(grids),
            "description": f"{rng.choice(STREETS)}{rng.choice(CATEGORY_WORDS)}问题",
            "reporter_id": rng.randrange(1, residents + 1), "urgent": rng.random() < 0.05,
            "accept_due_at": accept_due, "resolve_due_at": resolve_due,
            "accept_warn_at": created + (accept_due - created) * 0.8,
            "resolve_warn_at": created + (resolve_due - created) * 0.8,
            "accepted_at": created + timedelta(minutes=30) if accepted else None,
            "resolved_at": resolved_at,
            "closed_at": resolved_at if status == "closed" else None,
            "callback_needed": status == "closed" and rng.random() < 0.03,
            "created_at": created, "updated_at": created,
        }  # fmt: skip


def message_record(row: tuple[Any, ...]) -> dict[str, Any]:
    """A messages-table row (column → value) from a generated message."""
    i, conv, platform, direction, text, intent, confidence, created = row
    nlu = None if intent is None else f'{{"intent": "{intent}", "confidence": {confidence}}}'
    return {
        "id": i, "conversation_id": conv, "platform": platform,
        "platform_msg_id": f"m{i}", "direction": direction, "text": text,
        "status": "done" if direction == "in" else "sent", "intent": intent,
        "confidence": confidence, "nlu": nlu, "action": None if intent else "reply",
        "attempts": 0, "created_at": created,
        "processed_at": created if direction == "in" else None,
        "sent_at": created if direction == "out" else None,
    }  # fmt: skip


def search_record(row: tuple[Any, ...]) -> tuple[int, str]:
    """(message id, index tokens) of a generated message, as storage.search.index_rows has it."""
    return row[0], f"{month_token(row[7])} {tokens(row[4])}"
