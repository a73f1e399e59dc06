"""The place of a report: read in full as said, and corrected piece by piece."""

from __future__ import annotations

import re

from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from nlu.places import is_place_answer

# the pieces of an address a correction may replace on its own ("不对 是5号楼", "是西门")
_PIECES = (
    re.compile(r"[0-9A-Za-z]{1,4}(?:号楼|栋|幢|座)"),
    re.compile(r"[0-9]{1,3}单元"),
    re.compile(r"[0-9]{1,3}(?:楼|层)(?![道梯下])"),
    re.compile(r"[0-9]{1,5}(?:室|户)"),
    re.compile(r"[东南西北]{1,2}(?:门|侧|边)"),
)
_NAMED = re.compile(r"(?:社区|小区|花园|家园|公寓|新村|大院|路|街|巷|胡同|村|镇|乡|里)")
_LEAD = re.compile(
    r"^(?:(?:就|是|在|就在|就是|那个|嗯|啊|哦|地址|地点|位置)[是在:：,，\s]{0,3}){1,4}"
)
_TAIL = re.compile(r"[\s,，。.!！~～]{1,8}$")
MAX_PLACE = 80


def place_in(turn: Turn) -> SlotValue:
    """The place the message names, in full."""
    place = turn.place
    if place is None or len(place.text) < 2:
        return None
    return place.plain or place.text  # kept as said, in simplified characters


def place_answer(turn: Turn) -> SlotValue:
    """A short free answer to "where?" taken as the place when it reads as one."""
    text = _TAIL.sub("", _LEAD.sub("", turn.plain.strip()))
    if 2 <= len(text) <= MAX_PLACE and is_place_answer(text):
        return text
    return None


def corrected_place(old: SlotValue, new: SlotValue) -> SlotValue:
    """A corrected place: a named place replaces the old; a piece replaces its like in it."""
    before, after = str(old or ""), str(new or "")
    if before and after in before:
        return before  # said again (对 东关大街): no change
    if not before or _NAMED.search(after) or before in after:
        return after
    merged = before
    for piece in _PIECES:
        found = piece.search(after)
        if found is None:
            continue
        merged, count = piece.subn(found.group(0), merged, count=1)
        if count == 0:
            merged += found.group(0)
    # a landmark alone adds to the place said before; it never replaces it (rule 8)
    return merged if merged != before else f"{before} {after}"
