"""The standard bot's handler modules (one per service), their registry and periodic jobs.

Add a new service here: import its module and list it in HANDLER_MODULES.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from handlers import (
    activities,
    chitchat,
    complaints,
    disability,
    faq,
    handoff,
    home_care,
    menu,
    rating,
    rehab,
    reports,
    retention,
    silence,
    sla,
    status,
    wishes,
    worker_commands,
)
from handlers.jobs import PeriodicJob, collect_jobs
from handlers.registry import Registry

HANDLER_MODULES: tuple[ModuleType, ...] = (
    activities,
    chitchat,
    complaints,
    disability,
    faq,
    handoff,
    home_care,
    menu,
    rating,
    rehab,
    reports,
    retention,
    silence,
    sla,
    status,
    wishes,
    worker_commands,
)


def default_registry(modules: Iterable[ModuleType] | None = None) -> Registry:
    """Build the registry of the standard handler modules."""
    registry = Registry()
    for module in modules or HANDLER_MODULES:
        registry.add_module(module)
    return registry


def default_jobs() -> list[PeriodicJob]:
    """The periodic jobs of the standard handler modules."""
    return collect_jobs(HANDLER_MODULES)
