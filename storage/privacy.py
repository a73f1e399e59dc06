"""Masking of residents' personal details for people whose role does not need them."""

from __future__ import annotations

import re

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_ID_CARD = re.compile(r"(?<![\dXx])(\d{6})(\d{8})(\d{3}[\dXx])(?![\dXx])")


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


def mask_text(text: str) -> str:
    """Mask every mobile number and ID-card number inside free text."""
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(3)}", text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
