"""The handler modules of the standard bot: one per service. Add a new service here."""

from __future__ import annotations

import importlib
from types import ModuleType

MODULES = (
    "activities", "booking", "booking_changes", "care_orders", "chitchat", "disability",
    "faq", "handoff", "home_care", "menu", "rating", "reports", "retention", "sla", "status",
    "wish_commands", "wishes", "worker_commands",
)  # fmt: skip


def handler_modules() -> list[ModuleType]:
    """Import and return every standard handler module (imports are deferred, no side effects)."""
    return [importlib.import_module(f"handlers.{name}") for name in MODULES]
