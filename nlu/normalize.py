"""Normalise a resident's message before NLU, keeping a character-level map back to the original.

Steps, in order (each keeps the offset map exact):

1. control and format characters (Cc/Cf, variation selectors, keycap marks) are removed;
   emoji are replaced by a space; full-width ASCII (U+FF01–U+FF5E, including ，！？：；（）)
   becomes half-width ASCII and U+3000 becomes a space; circled numbers ①–⑳ become digits.
   、。“”《》【】 are kept as they are: they have no ASCII equivalent of the same meaning.
2. traditional → simplified with OpenCC ``t2s`` (phrase-aware; if the output length ever
   differs from the input, conversion falls back to one character at a time).
3. hanzi numbers before a measure word become digits (三号楼 → 3号楼, 十二单元 → 12单元,
   二零二五年 → 2025年); a lone 一 only before 号/楼/栋/幢/单元/室/户/月/岁/元, so 一个人,
   一天到晚, 一层灰 stay; 一点 only after a time of day (下午一点); 三四天 (a range) stays.
4. whitespace runs collapse to one space; leading and trailing whitespace is removed.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

logger = logging.getLogger(__name__)

# (start, end, replacement, atomic): replace text[start:end]; atomic maps every output
# character to the whole source range instead of character by character.
_Edit = tuple[int, int, str, bool]

_EMOJI_RANGES: tuple[tuple[int, int], ...] = (
    (0x1F000, 0x1FAFF),  # mahjong, cards, enclosed, pictographs, emoticons, transport, ...
    (0x2300, 0x23FF),  # ⌚ ⏰ ⏳
    (0x2600, 0x27BF),  # ☀ ☎ ✅ ❤ dingbats
    (0x2B00, 0x2BFF),  # ⭐ ⬆
)
_EMOJI_SINGLES = frozenset({0x3030, 0x303D, 0x3297, 0x3299})
_DROP_SINGLES = frozenset({0x20E3, 0x200D})  # keycap mark, zero-width joiner

_NUMERAL = "零〇一二两三四五六七八九十百千万"
_DIGITS = {c: str(i) for i, c in enumerate("零一二三四五六七八九")} | {"〇": "0"}
_MEASURE = (
    "号楼|号|楼|栋|幢|单元|层|室|户|点|个|岁|小时|分钟|"
    "天|周|星期|礼拜|月|年|元|块|次|位|间|斤|人|名"
)
_LONE_ONE_MEASURES = frozenset("号楼栋幢室户月岁元") | {"单元", "号楼"}
# A weekday (周三, 星期天) is matched first so that its numeral is skipped, not converted.
# A numeral is at most 20 characters (九千九百九十九万… is 15): a longer run is not read as a
# number, and no start position backtracks over a whole run (tests/unit/test_regex_steps.py).
_NUMBER_RE = re.compile(
    rf"(?:周|星期|礼拜)[一二三四五六日天]|(?<!初)([{_NUMERAL}]{{1,20}})(?=({_MEASURE}))"
)
_DAYPART_BEFORE = re.compile(r"(凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里|半夜)$")
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Normalized:
    """A normalised message with, per character of ``text``, its source span in ``original``."""

    original: str
    text: str
    starts: tuple[int, ...] = field(repr=False, default=())
    ends: tuple[int, ...] = field(repr=False, default=())

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the half-open span [start, end) of ``text`` to its source span in ``original``."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) outside text of length {len(self.text)}")
        if start == end:
            if start < len(self.text):
                pos = self.starts[start]
            else:
                pos = self.ends[-1] if self.text else 0
            return pos, pos
        return self.starts[start], self.ends[end - 1]


def _is_emoji(cp: int) -> bool:
    return cp in _EMOJI_SINGLES or any(lo <= cp <= hi for lo, hi in _EMOJI_RANGES)


def _char_edits(text: str) -> Iterator[_Edit]:
    for i, ch in enumerate(text):
        cp = ord(ch)
        if cp in _DROP_SINGLES or 0xFE00 <= cp <= 0xFE0F or 0xE0000 <= cp <= 0xE007F:
            yield i, i + 1, "", False
        elif _is_emoji(cp):
            yield i, i + 1, " ", False
        elif ch.isspace():
            if ch != " ":
                yield i, i + 1, " ", False
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co"):
            yield i, i + 1, "", False
        elif 0xFF01 <= cp <= 0xFF5E:
            yield i, i + 1, chr(cp - 0xFEE0), False
        elif 0x2460 <= cp <= 0x2473:  # ①..⑳
            yield i, i + 1, str(cp - 0x2460 + 1), True


@lru_cache(maxsize=1)
def _converter() -> Any:
    import opencc  # loaded on first use: keeps importing nlu cheap

    return opencc.OpenCC("t2s")


def _t2s_edits(text: str) -> Iterator[_Edit]:
    cc = _converter()
    out: str = cc.convert(text)
    if out == text:
        return
    if len(out) == len(text):
        for i, (a, b) in enumerate(zip(text, out, strict=True)):
            if a != b:
                yield i, i + 1, b, False
        return
    logger.debug("t2s changed the length of %r; converting one character at a time", text)
    for i, ch in enumerate(text):
        conv: str = cc.convert(ch)
        if conv != ch:
            yield i, i + 1, conv, True


def _hanzi_to_int(run: str) -> int | None:
    if all(c in _DIGITS for c in run):
        if len(run) >= 3:  # 二零二五, 五零二: read digit by digit
            return int("".join(_DIGITS[c] for c in run))
        if len(run) == 2:  # 三四天, 五六个: a range, not a number
            return None
    from cn2an import cn2an  # imported on first use: costs ~0.2 s

    try:
        return int(cn2an(run.replace("两", "二"), "strict"))
    except Exception:  # cn2an raises ValueError, sometimes others, on malformed input
        return None


def _number_edits(text: str) -> Iterator[_Edit]:
    weekday_end = -1
    for m in _NUMBER_RE.finditer(text):
        run, measure = m.group(1), m.group(2)
        if run is None:
            weekday_end = m.end()
            continue
        if m.start() > 0 and text[m.start() - 1] in _NUMERAL and m.start() != weekday_end:
            continue  # the tail of a longer numeral such as 万一, 三心二意
        if run[0] in "百千万":
            continue  # 万一个, 百岁: not a number written out
        if run == "一":
            if measure == "点":
                if not _DAYPART_BEFORE.search(text, 0, m.start()):
                    continue
            elif measure not in _LONE_ONE_MEASURES or text.startswith(("楼道", "楼梯"), m.end()):
                continue
        value = _hanzi_to_int(run)
        if value is not None:
            yield m.start(1), m.end(1), str(value), True


def _space_edits(text: str) -> Iterator[_Edit]:
    for m in _SPACE_RE.finditer(text):
        edge = m.start() == 0 or m.end() == len(text)
        if edge:
            yield m.start(), m.end(), "", False
        elif m.group() != " ":
            yield m.start(), m.end(), " ", True


def _apply(
    text: str, starts: list[int], ends: list[int], edits: Iterable[_Edit]
) -> tuple[str, list[int], list[int]]:
    parts: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    pos = 0
    for s, e, rep, atomic in edits:
        parts.append(text[pos:s])
        new_starts.extend(starts[pos:s])
        new_ends.extend(ends[pos:s])
        parts.append(rep)
        if not atomic and len(rep) == e - s:
            new_starts.extend(starts[s:e])
            new_ends.extend(ends[s:e])
        else:
            new_starts.extend([starts[s]] * len(rep))
            new_ends.extend([ends[e - 1]] * len(rep))
        pos = e
    parts.append(text[pos:])
    new_starts.extend(starts[pos:])
    new_ends.extend(ends[pos:])
    return "".join(parts), new_starts, new_ends


def normalize(text: str) -> Normalized:
    """Normalise ``text`` for NLU (t2s, half-width, hanzi numbers, no emoji) keeping offsets."""
    cur = text
    starts = list(range(len(text)))
    ends = list(range(1, len(text) + 1))
    for step in (_char_edits, _t2s_edits, _number_edits, _space_edits):
        cur, starts, ends = _apply(cur, starts, ends, list(step(cur)))
    return Normalized(original=text, text=cur, starts=tuple(starts), ends=tuple(ends))


def map_entities(norm: Normalized, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return copies of NLU entities with start/end/value rewritten into ``norm.original``."""
    mapped: list[dict[str, Any]] = []
    for ent in entities:
        new = dict(ent)
        if isinstance(ent.get("start"), int) and isinstance(ent.get("end"), int):
            start, end = norm.to_original(ent["start"], ent["end"])
            new.update(start=start, end=end, value=norm.original[start:end])
        else:
            logger.debug("entity without offsets left as is: %r", ent)
        mapped.append(new)
    return mapped
