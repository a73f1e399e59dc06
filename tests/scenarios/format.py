"""Load tests/scenarios/*.yml and check every scenario against FORMAT.md (the data's contract).

A file that breaks the format stops the run with one line per problem (file, scenario id,
what is wrong): a misspelt key would otherwise be a check silently not made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SEED = HERE.parent.parent / "seed"

FLOWS = tuple(
    "report gas mediation complaint status rehab activity home_care disability wish job faq "
    "handoff".split()
)
CLASSES = tuple(
    "up_front in_pieces free_answer yes_plus_words correction question_between withdrawal "
    "follow_up unknown_place traditional voice_runon group_chat abandoned urgent handoff".split()
)
CATEGORIES = tuple(
    "streetlight sanitation road water gas noise mediation home_care assistive_device "
    "accessibility disability_cert job wish complaint other".split()
)
PARTS_OF_DAY = ("morning", "afternoon", "evening")
BOOKING_STATUSES = ("booked", "cancelled")
FRESH = "fresh"
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FAQ_KEY = re.compile(r"^[a-z][a-z0-9_]*$")

# the keys each expected record may have, and the kind of value of each
TEXTS, TEXT, BOOL, WEEKDAY = "list of strings", "string", "true/false", "1-7"
RECORD_KEYS: dict[str, dict[str, Any]] = {
    "tickets": {
        "category": CATEGORIES,
        "location_has": TEXTS,
        "location_not_has": TEXTS,
        "details_has": TEXTS,
        "urgent": BOOL,
        "status_not": TEXTS,
    },
    "bookings": {
        "kind": ("rehab", "activity"),
        "station_has": TEXT,
        "activity_has": TEXT,
        "weekday": WEEKDAY,
        "part_of_day": PARTS_OF_DAY,
        "service_has": TEXT,
        "status": BOOKING_STATUSES,
    },
    "orders": {"elder": TEXT, "service_has": TEXT},
    "wishes": {"text_has": TEXTS, "text_not_has": TEXTS},
}
EXPECT_KEYS = (*RECORD_KEYS, "handoff", "fallback", "faq")


class FormatError(Exception):
    """Scenario data that does not follow FORMAT.md."""


@dataclass(frozen=True)
class Turn:
    """One thing the resident does: send a text (maybe @-mentioning the bot), or go quiet."""

    text: str | None = None
    mentioned: bool = False
    wait_minutes: float | None = None


@dataclass(frozen=True)
class Scenario:
    """One resident's conversation and what the product must have done by its end."""

    id: str
    flow: str
    classes: tuple[str, ...]
    note: str
    turns: tuple[Turn, ...]
    expect: dict[str, Any]
    user: str = FRESH
    group: bool = False
    source: str = ""

    @property
    def fallback_allowed(self) -> bool:
        """FORMAT.md: fallback false is the default."""
        return bool(self.expect.get("fallback", False))

    @property
    def needs_demo_identity(self) -> bool:
        """True when the resident is a seeded identity (daughter-1 …), not a new resident."""
        return self.user != FRESH


def demo_identities(seed_dir: Path = SEED) -> frozenset[str]:
    """Every chat identity (user_id) named in the seed files."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "user_id" and isinstance(value, str):
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(seed_dir.glob("*.yml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return frozenset(found)


def _check_value(kind: Any, value: Any) -> bool:
    if kind == TEXTS:
        return isinstance(value, list) and all(isinstance(v, str | int) for v in value)
    if kind == TEXT:
        return isinstance(value, str) and bool(value)
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == WEEKDAY:
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7
    return value in kind


def _turn(raw: Any, group: bool, problems: list[str]) -> Turn | None:
    if isinstance(raw, str | int | float) and not isinstance(raw, bool):
        return Turn(text=str(raw))
    if not isinstance(raw, dict):
        problems.append(f"a turn must be a text or a mapping, not {raw!r}")
        return None
    unknown = set(raw) - {"text", "mentioned", "wait_minutes"}
    if unknown:
        problems.append(f"turn {raw!r}: unknown keys {sorted(unknown)}")
        return None
    if "wait_minutes" in raw:
        minutes = raw["wait_minutes"]
        if set(raw) != {"wait_minutes"} or not isinstance(minutes, int | float) or minutes <= 0:
            problems.append(f"turn {raw!r}: wait_minutes is a positive number on its own")
            return None
        return Turn(wait_minutes=float(minutes))
    text = raw.get("text")
    if not isinstance(text, str | int | float) or isinstance(text, bool):
        problems.append(f"turn {raw!r}: text missing")
        return None
    mentioned = raw.get("mentioned", False)
    if not isinstance(mentioned, bool) or (mentioned and not group):
        problems.append(f"turn {raw!r}: mentioned is true/false, and only in a group chat")
        return None
    return Turn(text=str(text), mentioned=mentioned)


def _check_expect(expect: Any, problems: list[str]) -> None:
    if not isinstance(expect, dict):
        problems.append("expect must be a mapping")
        return
    for key, value in expect.items():
        if key not in EXPECT_KEYS:
            problems.append(f"expect: unknown key {key!r}")
        elif key in RECORD_KEYS:
            if not isinstance(value, list):
                problems.append(f"expect.{key} must be a list ([] = none at all)")
                continue
            for record in value:
                if not isinstance(record, dict):
                    problems.append(f"expect.{key}: {record!r} is not a mapping")
                    continue
                for name, given in record.items():
                    kind = RECORD_KEYS[key].get(name)
                    if kind is None:
                        problems.append(f"expect.{key}: unknown key {name!r}")
                    elif not _check_value(kind, given):
                        problems.append(f"expect.{key}.{name}: {given!r} is not {kind}")
        elif key in ("handoff", "fallback") and not isinstance(value, bool):
            problems.append(f"expect.{key} must be true or false")
        elif key == "faq" and not (
            isinstance(value, list) and all(isinstance(k, str) and _FAQ_KEY.match(k) for k in value)
        ):
            problems.append("expect.faq must be a list of FAQ keys")


def parse_scenario(raw: Any, source: str, identities: frozenset[str]) -> Scenario:
    """One scenario from its YAML mapping; FormatError names every problem."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise FormatError(f"{source}: a scenario must be a mapping, not {raw!r}")
    sid = raw.get("id")
    where = f"{source}: {sid or '?'}"
    known = {"id", "flow", "classes", "note", "user", "group", "turns", "expect"}
    if unknown := set(raw) - known:
        problems.append(f"unknown keys {sorted(unknown)}")
    if not isinstance(sid, str) or not _ID.match(sid):
        problems.append("id must be kebab-case")
    if raw.get("flow") not in FLOWS:
        problems.append(f"flow {raw.get('flow')!r} is not one of {FLOWS}")
    classes = raw.get("classes")
    if not isinstance(classes, list) or not classes:
        problems.append("classes must be a non-empty list")
        classes = []
    problems += [f"class {c!r} is not in FORMAT.md" for c in classes if c not in CLASSES]
    if not isinstance(raw.get("note"), str) or not raw["note"].strip():
        problems.append("note missing")
    user = raw.get("user", FRESH)
    if user != FRESH and user not in identities:
        problems.append(f"user {user!r} is neither fresh nor a demo identity of seed/*.yml")
    group = raw.get("group", False)
    if not isinstance(group, bool):
        problems.append("group must be true or false")
        group = False
    turns = raw.get("turns")
    parsed: list[Turn] = []
    if not isinstance(turns, list) or not turns:
        problems.append("turns must be a non-empty list")
    else:
        for item in turns:
            turn = _turn(item, group, problems)
            if turn is not None:
                parsed.append(turn)
        if not any(t.text is not None for t in parsed):
            problems.append("no turn sends anything")
    expect = raw.get("expect", {})
    _check_expect(expect, problems)
    if problems:
        raise FormatError("\n".join(f"{where}: {p}" for p in problems))
    return Scenario(
        id=str(sid),
        flow=raw["flow"],
        classes=tuple(classes),
        note=raw["note"].strip(),
        turns=tuple(parsed),
        expect=dict(expect),
        user=user,
        group=group,
        source=source,
    )


def load_scenarios(directory: Path = HERE) -> list[Scenario]:
    """Every scenario of every *.yml file in the directory, in file then listed order."""
    identities = demo_identities()
    scenarios: list[Scenario] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(data, list):
            problems.append(f"{path.name}: the file must be a list of scenarios")
            continue
        for raw in data:
            try:
                scenarios.append(parse_scenario(raw, path.name, identities))
            except FormatError as exc:
                problems.append(str(exc))
    seen: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.id in seen:
            problems.append(
                f"{scenario.source}: {scenario.id}: id also used in {seen[scenario.id]}"
            )
        seen[scenario.id] = scenario.source
    if problems:
        raise FormatError("\n".join(problems))
    return scenarios
