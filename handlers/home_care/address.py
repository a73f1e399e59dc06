"""An elder's address corrected piece by piece ("不对 是6号楼202", "是2排5号")."""

from __future__ import annotations

import re

from handlers.engine.state import SlotValue
from handlers.reports.places import corrected_place

_UNIT = re.compile(r"[^\d\s]")  # a spliced piece must name a unit (号楼, 排, 村), not digits only
MIN_PIECE = 2


def corrected_address(old: SlotValue, new: SlotValue) -> SlotValue:
    """The address with the corrected part: a new tail spliced where its head was said.

    "幸福里小区6号楼302" + "6号楼202" → "幸福里小区6号楼202"; "城关镇西门村" + "西门村二组18号"
    → "城关镇西门村二组18号"; otherwise as a report's place is corrected.
    """
    before, after = str(old or "").strip(), str(new or "").strip()
    if not before or not after or after in before:
        return before or after
    for size in range(len(after) - 1, MIN_PIECE - 1, -1):
        head = after[:size]
        at = before.rfind(head)
        if at >= 0 and _UNIT.search(head):
            return before[:at] + after
    return corrected_place(before, after)
