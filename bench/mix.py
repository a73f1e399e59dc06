"""The residents of the end-to-end bench: what they open with and how they answer the bot.

Opening texts come from the NLU training data (nlu/project/data/*.yml, entity marks
removed); answers follow the bot's replies as a resident would: a place when asked where,
1 (or 对, or 取消) to a confirmation, a number to numbered choices, 查询 to check on things.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parent.parent / "nlu" / "project" / "data"
_MARK = re.compile(r"\[([^\]]+)\]\([^)]*\)|\[([^\]]+)\]\{[^}]*\}")
# Share of conversations by what the resident opens with (a realistic day, not a storm).
KINDS = {"report": 0.35, "service": 0.15, "faq": 0.15, "status": 0.10, "chatter": 0.25}
SKIP_INTENTS = {"human_handoff"}  # a handed-off conversation goes quiet: not what we measure
PLACES = ["东关中巷3号楼门口", "幸福里小区东门", "安康小区5号楼", "东关北街", "桃园小区2号楼"]
STATUS = ["查询", "查询 1001", "查询", "我报的事怎么样了"]
MAX_TURNS = 5


def _examples(filename: str) -> dict[str, list[str]]:
    """Intent → example texts of one training file, entity marks removed."""
    data = yaml.safe_load((DATA / filename).read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    for block in data.get("nlu", []):
        if "intent" not in block or block["intent"] in SKIP_INTENTS:
            continue
        lines = [ln.strip()[2:] for ln in str(block["examples"]).splitlines()]
        texts = [_MARK.sub(lambda m: m.group(1) or m.group(2), t).strip() for t in lines]
        out.setdefault(block["intent"], []).extend(t for t in texts if t)
    return out


def opening_texts() -> dict[str, list[str]]:
    """Opening texts by kind of conversation."""
    reports = _examples("nlu_reports.yml")
    services = _examples("nlu_services.yml")
    chat = _examples("nlu_chat.yml")
    return {
        "report": [t for i, ts in reports.items() if i.startswith("report_") for t in ts],
        "service": [t for i, ts in services.items() if i != "check_status" for t in ts],
        "faq": [t for ts in _examples("nlu_faq.yml").values() for t in ts],
        "status": STATUS + services.get("check_status", []),
        "chatter": [t for ts in chat.values() for t in ts],
    }


def answer(reply: str, rng: random.Random) -> str | None:
    """What a resident answers to the bot's reply, or None when the conversation is over."""
    if "回复 1 确认" in reply or "回复1确认" in reply:
        return rng.choices(["1", "对", "取消"], weights=[7, 2, 1])[0]
    if "对吗" in reply or "回复“对”" in reply:
        return rng.choices(["对", "对的 谢谢", "嗯 可以", "取消"], weights=[5, 2, 2, 1])[0]
    if "位置" in reply or "地点" in reply or "哪里" in reply:
        return rng.choice(PLACES)
    if "3 转人工" in reply:
        return rng.choice(["1", "2"])  # the menu; 3 would hand over to staff
    if re.search(r"(^|\n)\s*1[ .、)）]", reply) or "回复数字" in reply:
        return rng.choice(["1", "2"])
    return None


@dataclass
class Conversation:
    """One resident's conversation: turns sent so far."""

    user: str
    turns: int = 0


@dataclass
class Mix:
    """Draws new conversations (many distinct residents) and keeps follow-ups ready to send."""

    seed: int = 7
    unique: bool = False  # every text sent differs (no parse cache hits; Rasa sees each)
    rng: random.Random = field(init=False)
    texts: dict[str, list[str]] = field(init=False)
    ready: list[tuple[Conversation, str]] = field(default_factory=list)
    started: int = 0
    sent: dict[str, int] = field(default_factory=dict)  # kind of turn → count
    tails: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.texts = opening_texts()

    def all_texts(self) -> list[str]:
        """Every text the mix may send (for the raw parse ceiling on the same texts)."""
        answers = ["1", "2", "对", "取消", *PLACES]
        return [t for ts in self.texts.values() for t in ts] + answers

    def weighted_texts(self, n: int) -> list[str]:
        """n texts drawn with the mix's weights (openings and typical answers)."""
        rng = random.Random(self.seed + 1)
        out = []
        for _ in range(n):
            if rng.random() < 0.3:
                out.append(rng.choice(["1", "2", "对", *PLACES]))
            else:
                kind = rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
                out.append(rng.choice(self.texts[kind]))
        return out

    def next_turn(self, run: str) -> tuple[Conversation, str]:
        """A follow-up whose answer has come back, else a new resident's opening."""
        if self.ready:
            self.sent["answer"] = self.sent.get("answer", 0) + 1
            conv, text = self.ready.pop(0)
            return conv, self._distinct(text)
        kind = self.rng.choices(list(KINDS), weights=list(KINDS.values()))[0]
        self.sent[kind] = self.sent.get(kind, 0) + 1
        self.started += 1
        text = self._distinct(self.rng.choice(self.texts[kind]))
        return Conversation(user=f"bench-{run}-{self.started}"), text

    def _distinct(self, text: str) -> str:
        """With `unique`, a text no earlier turn sent (a short numbered tail; bare numbers stay)."""
        if not self.unique or text.strip().isdigit():
            return text
        self.tails += 1
        return f"{text} ({self.tails})"

    def replied(self, conv: Conversation, reply: str) -> None:
        """The bot answered conv's last turn: queue the resident's answer, if any."""
        conv.turns += 1
        if conv.turns >= MAX_TURNS:
            return
        follow = answer(reply, self.rng)
        if follow is not None:
            self.ready.append((conv, follow))
