"""Micro-wishes (微心愿): a resident posts a small wish, staff check it, volunteers fulfil it."""

from handlers.wishes.commands import (
    STATUS_TEXT,
    THANKS,
    approve_wish,
    claim_wish,
    fulfil_wish,
    list_wishes,
    reject_wish,
    thank_volunteer,
)
from handlers.wishes.followups import status_lines, take_follow_up
from handlers.wishes.form import ASK_WHAT, WISH
from handlers.wishes.words import public_words, whom_label, wish_line

FORMS = (WISH, THANKS)

__all__ = [
    "ASK_WHAT",
    "FORMS",
    "STATUS_TEXT",
    "approve_wish",
    "claim_wish",
    "fulfil_wish",
    "list_wishes",
    "public_words",
    "reject_wish",
    "status_lines",
    "take_follow_up",
    "thank_volunteer",
    "whom_label",
    "wish_line",
]
