"""Masking of residents' personal details for people whose role does not need them.

`mask_text` is the one rule for residents' own words (a report, a linked report, a wish's
date): wherever they are shown to anyone but the resident and authorised staff, mobile and
landline numbers, ID-card and bank-card numbers are masked, whether typed in one piece or in
groups (138 1234 5678, 138-1234-5678, +86 13812345678, full-width digits).

Every pattern is a fixed sequence of bounded pieces (no nested or unbounded quantifiers), so
each start position costs a bounded number of steps and a whole text is linear in its length.
"""

from __future__ import annotations

import re

_D = "[0-9０-９]"  # residents type full-width digits too
_LAST = "[0-9０-９XxＸｘ]"  # an ID card's check character may be X
_SEP_CHAR = "[ \u3000\\-－‐–—]"  # up to three spaces or dashes between digit groups
_SEP = _SEP_CHAR + "{0,3}"
_CARD = "[3-6３-６]"  # bank cards start 3–6 (room lists such as 1301 1302 1303 1304 do not)
_NOT_AFTER_DIGIT = "(?<![0-9０-９XxＸｘ])"
_NOT_BEFORE_DIGIT = "(?![0-9０-９XxＸｘ])"

# ID cards (18, or the old 15) and bank cards (16–19), in one piece or in groups.
_LONG_NUMBER = re.compile(
    _NOT_AFTER_DIGIT
    + "(?:"
    + f"{_D}{{6}}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}{_SEP}{_D}{{3}}{_LAST}"  # ID: 6-8-4, 6-4-4-4
    + f"|{_CARD}{_D}{{3}}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}{_SEP}{_D}{{3}}"  # 19 in 4s
    + f"|{_CARD}{_D}{{3}}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}"  # bank card 16 in fours
    + f"|{_D}{{6}}{_SEP}{_D}{{6}}{_SEP}{_D}{{3}}"  # old ID card: 6-6-3
    + f"|{_D}{{15,19}}"  # any other long run of digits
    + ")"
    + _NOT_BEFORE_DIGIT
)
# Mobile numbers 1[3-9]x-xxxx-xxxx, also right after a +86 / 86 country code.
_MOBILE = re.compile(
    "(?:(?<![0-9０-９])|(?<=[8８][6６]))"
    f"([1１][3-9３-９]{_D}){_SEP}({_D}{{4}}){_SEP}({_D}{{4}})(?![0-9０-９])"
)
# Landlines with their area code: 0431-1234567, 010 12345678.
_LANDLINE = re.compile(
    f"(?<![0-9０-９])([0０]{_D}{{2,3}}){_SEP}({_D}{{3,4}})({_D}{{4}})(?![0-9０-９])"
)
_SEPARATORS = re.compile(_SEP_CHAR)


def mask_phone(phone: str | None) -> str:
    """138****0101 for a mobile number; other numbers keep only their last four digits."""
    if not phone:
        return "未留"
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return f"****{digits[-4:]}" if len(digits) >= 4 else "****"


def mask_name(name: str | None) -> str:
    """张** for a name: the family name only."""
    if not name:
        return "居民"
    return name[0] + "*" * max(1, len(name) - 1)


def _mask_long(match: re.Match[str]) -> str:
    digits = _SEPARATORS.sub("", match.group(0))
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"


def mask_text(text: str) -> str:
    """Mask every phone, ID-card and bank-card number inside free text (as it was typed)."""
    text = _LONG_NUMBER.sub(_mask_long, text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(3)}", text)
