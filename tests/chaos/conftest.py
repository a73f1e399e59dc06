"""Chaos fixtures: a real deployment (subprocesses, embedded Redis, receiver) per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.chaos.stack import Stack

StackMaker = Callable[..., Awaitable[Stack]]


@pytest.fixture
async def make_stack(tmp_path: Path) -> AsyncIterator[StackMaker]:
    """Start deployments for a test; every process is stopped at the end."""
    stacks: list[Stack] = []

    async def make(
        db_url: str, nlu_url: str, workers: int = 2, overrides: dict[str, Any] | None = None
    ) -> Stack:
        stack = Stack(tmp_path / f"stack-{len(stacks)}", db_url, nlu_url, overrides)
        stacks.append(stack)
        await stack.start(workers)
        return stack

    yield make
    for stack in stacks:
        await stack.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print every chaos scenario's counts at the end of the run (also under `make test`)."""
    from tests.chaos.counts import LINES

    if LINES:
        terminalreporter.section("chaos counts")
        for line in LINES:
            terminalreporter.write_line(line)
