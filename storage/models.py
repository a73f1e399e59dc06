"""Import every aggregate so the metadata is complete (for Alembic and tests)."""

from storage import (
    accounts,
    bookings,
    community,
    home_care,
    messages,
    nlu_models,
    nlu_review,
    pending,
    residents,
    tickets,
    wishes,
)
from storage.base import Base

__all__ = [
    "Base",
    "accounts",
    "bookings",
    "community",
    "home_care",
    "messages",
    "nlu_models",
    "nlu_review",
    "pending",
    "residents",
    "tickets",
    "wishes",
]
