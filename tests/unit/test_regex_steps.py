"""Every regular expression that reads resident text stays linear on long hostile input.

A benchmark-style check that asserts on counted backtracking steps, never on time: for each
pattern found in bot/, handlers/, nlu/ and storage/ (module-level compiled patterns and
`re.sub(r"...", ...)`-style calls with a literal pattern), the most work one start position
costs must not grow when the text grows from 256 to 4,096 characters (tests/regex_steps.py
says how the steps are counted and why that bounds a scan to linear time).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.regex_steps import steps_per_start
from tests.support import REPO

PACKAGES = ("bot", "handlers", "nlu", "storage")
# modules whose patterns only ever read the project's own files or settings, never residents
NOT_RESIDENT_TEXT = {
    "bot.config": "environment variables (the AES key's shape)",
    "nlu.train": "the Rasa requirements file",
    "nlu.evaluate": "annotated NLU training examples",
}
SHORT, LONG = 256, 4096
SLACK = 8  # a step or two at a text's end; a growing pattern grows by thousands
# pieces of resident text that patterns here look for or skip over: spaces of all kinds,
# digits, ID-card and masking characters, keywords, units, numerals, punctuation, links, and
# the words answers to offered choices are read for (选第, 老, 不是, 礼拜, 半, 月, 我妈)
PIECES = [
    *(" ", "\t", "\n", "\u3000", "，", "。", "、", ":", "：", "-", "#", "＃"),
    *("1", "0", ".", "X", "x", "*", "a", "Y", "h", "http://"),
    *("电话", "是", "号", "楼", "号楼", "单元", "室", "个", "小时", "分钟", "点", "下午"),
    *("一", "十", "两", "初", "周", "星期", "第"),
    *("选", "老", "不", "不是", "礼拜", "半", "刻", "月", "日", "我妈", "吧"),
    # what handlers/engine/details.py reads: ages, names, living situation, deadlines, questions
    *("岁", "了", "叫", "我", "妈", "没", "一个人", "住", "前", "+86", "啥", "几"),
]


def _module_names() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if "project" in parts or "migrations" in parts:
                continue
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _literal_patterns(path: Path) -> list[tuple[int, str, int]]:
    """(line, pattern, flags) of every re.search/sub/... call with a literal pattern."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr != "compile"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value, 0))
    return found


def resident_text_patterns() -> dict[str, re.Pattern[str]]:
    """Every pattern in the code that may be applied to resident text, by where it is."""
    patterns: dict[str, re.Pattern[str]] = {}
    seen: set[tuple[str, int]] = set()
    for name in _module_names():
        if name in NOT_RESIDENT_TEXT:
            continue
        module = importlib.import_module(name)
        for key, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                if (value.pattern, value.flags) not in seen:
                    seen.add((value.pattern, value.flags))
                    patterns[f"{name}.{key}"] = value
        path = Path(module.__file__ or "")
        for line, pattern, flags in _literal_patterns(path):
            if (pattern, flags) not in seen:
                seen.add((pattern, flags))
                patterns[f"{name}:{line}"] = re.compile(pattern, flags)
    return patterns


PATTERNS = resident_text_patterns()


def test_the_inventory_finds_the_patterns_that_read_messages() -> None:
    expected = [
        "handlers.wishes.words._CONTACT",
        "handlers.wishes.words._HOUSE",
        "handlers.wishes.words._WANT",
        "handlers.complaints.form._VERDICT",
        "handlers.status._NUMBER",
        "nlu.normalize._NUMBER_RE",
        "nlu.timeparse._ANCHOR_RE",
        "nlu.timeparse._TIME_WORD_RE",
        "nlu.timeparse._NEG_WORD",
        "handlers.engine.choices._CHOICE_RE",
        "handlers.engine.choices._ORDINAL_RE",
        "handlers.engine.choices._RELATION_RE",
        "handlers.engine.choices._SURNAME_RE",
        "storage.privacy._MOBILE",
        "handlers.engine.details._RELATION",
        "handlers.engine.details._AGE_CUE",
        "handlers.engine.details._A_NOT_A",  # a backreference: counted since captures are on
        "bot.messaging.ingest._CONTROL",
    ]
    for where in expected:
        assert where in PATTERNS, sorted(PATTERNS)
    assert any(":" in where for where in PATTERNS)  # re.sub(r"...") calls are found too


def test_the_count_catches_a_pattern_that_backtracks_over_a_run() -> None:
    before = re.compile(r"(?:电话|手机|号码|联系方式|身份证号?)?[是为:：\s]*[\dXx*]{7,}")  # main's
    assert steps_per_start(before, " " * LONG) > steps_per_start(before, " " * SHORT) + SLACK
    house = re.compile(r"\d+\s*(?:号楼|栋|单元|室|号|楼)")
    assert steps_per_start(house, "1" * LONG) > 10 * steps_per_start(house, "1" * SHORT)


def _stretched(unit: str, suffix: str, length: int) -> str:
    # whole units, so the short and the long text end alike (a unit cut in two at one length
    # and not the other changes what the last start positions cost, not how the cost grows)
    return unit * max(1, length // len(unit)) + suffix


hostile_units = st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join)
suffixes = st.sampled_from(["", "!", "a", "号", "电话", "1"])


@pytest.mark.parametrize("where", sorted(PATTERNS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=hostile_units, suffix=suffixes)
@example(unit=" ", suffix="")  # 20,000 spaces froze a worker (issue 18)
@example(unit="1", suffix="!")
@example(unit="一", suffix="!")
@example(unit="电话 ", suffix="")
def test_steps_do_not_grow_with_the_text(where: str, unit: str, suffix: str) -> None:
    pattern = PATTERNS[where]
    short = steps_per_start(pattern, _stretched(unit, suffix, SHORT))
    long = steps_per_start(pattern, _stretched(unit, suffix, LONG))
    assert long <= short + SLACK, (
        f"{where} {pattern.pattern!r}: one start position costs {short} steps on "
        f"{SHORT} characters of {unit!r}, {long} on {LONG}"
    )
