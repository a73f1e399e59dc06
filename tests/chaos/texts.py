"""A realistic text mix for chaos runs: residents' scripts built from the NLU training data."""

from __future__ import annotations

import random
import re
from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[2] / "nlu" / "project" / "data"
_ANNOTATION = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)|\[([^\]]+)\]\{[^}]*\}")


def _examples(path: Path) -> dict[str, list[str]]:
    """Intent name -> example texts, entity annotations removed."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for block in data.get("nlu", []):
        if "intent" not in block:
            continue
        lines = [ln.strip()[2:].strip() for ln in block["examples"].splitlines()]
        texts = [_ANNOTATION.sub(lambda m: m.group(1) or m.group(2), ln) for ln in lines if ln]
        found.setdefault(block["intent"], []).extend(texts)
    return found


def text_pools() -> dict[str, list[str]]:
    """Reports, FAQ questions, chatter and status checks from nlu/project/data."""
    reports = _examples(DATA / "nlu_reports.yml")
    faq = _examples(DATA / "nlu_faq.yml")
    chat = _examples(DATA / "nlu_chat.yml")
    return {
        "report": [t for name, ts in reports.items() if name.startswith("report_") for t in ts],
        "faq": [t for ts in faq.values() for t in ts],
        "chatter": chat["greet"] + chat["thank"],
        "status": [*reports["check_status"], "查询"],
    }


def resident_scripts(users: int, per_user: int, seed: int = 7) -> dict[str, list[str]]:
    """Per resident, the texts they send in order: report + confirm, FAQ, chatter, status."""
    rng = random.Random(seed)
    pools = text_pools()
    scripts: dict[str, list[str]] = {}
    for n in range(users):
        texts: list[str] = []
        while len(texts) < per_user:
            kind = rng.choice(["report", "report", "faq", "chatter", "status"])
            texts.append(rng.choice(pools[kind]))
            if kind == "report":
                texts.append("1")  # the slot answer: confirm the report
        scripts[f"chaos-{seed}-{n:04d}"] = texts[:per_user]
    return scripts
