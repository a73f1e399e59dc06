"""Periodic jobs (reminders, SLA checks): @periodic only attaches metadata; bot/scheduler runs them.

A job is `async def job(session, services, now) -> int`, run inside one transaction; it
returns how many things it did. Several worker processes may run the same job at once, so
a job must be idempotent: claim each item with a conditional UPDATE (… WHERE reminded_at
IS NULL) and push only for the rows it claimed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Services

JobFunc = Callable[[AsyncSession, Services, datetime], Awaitable[int]]
_ATTR = "__linli_periodic__"


@dataclass(frozen=True)
class PeriodicJob:
    """A job function and how often it runs."""

    name: str
    seconds: float
    func: JobFunc


def periodic(seconds: float) -> Callable[[JobFunc], JobFunc]:
    """Mark a function as a periodic job run every `seconds` by the worker role."""

    def mark(func: JobFunc) -> JobFunc:
        setattr(func, _ATTR, seconds)
        return func

    return mark


def collect_jobs(modules: Iterable[ModuleType]) -> list[PeriodicJob]:
    """Every function marked @periodic in the given modules."""
    jobs = []
    for module in modules:
        for name, value in vars(module).items():
            seconds = getattr(value, _ATTR, None)
            if seconds is not None and callable(value):
                jobs.append(PeriodicJob(f"{module.__name__}.{name}", float(seconds), value))
    return jobs
