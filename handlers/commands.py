"""Chat commands typed by workers, staff, providers and volunteers: a verb and maybe a number.

`接单 1001`, `完成 1001 已更换灯泡`, `我的任务`, `抢单 J1001`. A handler registered as
`@intent("cmd:<verb>")` gets ctx.command; command messages skip NLU. A command matches only
when a number follows the verb or nothing does, so a resident writing 完成了吗 is no command.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

PREFIX = "cmd:"
_NUMBER = re.compile(r"^[#＃]?([A-Za-z]?\d{3,8})(?![\d])\s*(.*)$", re.S)


@dataclass(frozen=True)
class Command:
    """A parsed command: its verb, the number it names (upper-case prefix) and the rest."""

    verb: str
    number: str | None
    rest: str


def command_verbs(names: Iterable[str]) -> list[str]:
    """The verbs among registered handler names, longest first (so 我的任务 beats 我的)."""
    verbs = [name[len(PREFIX) :] for name in names if name.startswith(PREFIX)]
    return sorted(verbs, key=len, reverse=True)


def parse_command(text: str, verbs: Iterable[str]) -> Command | None:
    """Read a command from a message, or None when it is not one."""
    folded = unicodedata.normalize("NFKC", text).strip()
    for verb in verbs:
        if not folded.startswith(verb):
            continue
        remainder = folded[len(verb) :].strip(" ：:，,")
        if not remainder:
            return Command(verb, None, "")
        match = _NUMBER.match(remainder)
        if match:
            return Command(verb, match.group(1).upper(), match.group(2).strip(" ：:，,。"))
        return None
    return None
