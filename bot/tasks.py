"""Background tasks created through one helper that keeps a reference and logs crashes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)
_TASKS: set[asyncio.Task[Any]] = set()


def background_task(coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
    """Start a task that is not garbage-collected early and whose crash is logged."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    _TASKS.add(task)
    task.add_done_callback(_finished)
    return task


def _finished(task: asyncio.Task[Any]) -> None:
    _TASKS.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("background task %s crashed", task.get_name(), exc_info=exc)


async def cancel_and_wait(tasks: list[asyncio.Task[Any]], wait_seconds: float = 10.0) -> None:
    """Cancel tasks and wait (bounded) for them to finish."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=wait_seconds)


def being_cancelled() -> bool:
    """True when the current task was asked to stop (a library may have swallowed the cancel)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
