"""Password hashing off the event loop: argon2 in a few threads, with a bounded queue.

One argon2 check takes a fifth of a second of CPU and 64 MiB; on the event loop it would
stall every webhook and page meanwhile. argon2-cffi releases the GIL while it hashes, so
the threads run beside the loop; at most `at_once` run, and more than `waiting` callers
queued for a thread are turned away (PasswordChecksBusy) rather than piling up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any, TypeVar

from storage.accounts import hash_password, password_matches

T = TypeVar("T")


class PasswordChecksBusy(Exception):
    """Too many password checks are already waiting for a thread."""


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash to check unknown names against, so they take as long as known ones."""
    return hash_password("no account has this password")


def _matches_decoy(password: str) -> bool:
    return password_matches(_decoy_hash(), password)


class PasswordChecks:
    """argon2 hashing and verification in a small thread pool of this process."""

    def __init__(self, at_once: int, waiting: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="argon2")
        self._slots = asyncio.Semaphore(at_once)
        self._waiting_limit = waiting
        self._waiting = 0

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        if self._slots.locked() and self._waiting >= self._waiting_limit:
            raise PasswordChecksBusy
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, func, *args)
        finally:
            self._slots.release()

    async def matches(self, stored: str | None, password: str) -> bool:
        """Whether the password matches the stored hash; a missing hash costs the same time."""
        if stored is None:
            await self._run(_matches_decoy, password)
            return False
        return await self._run(password_matches, stored, password)

    async def hash(self, password: str) -> str:
        """An argon2id hash of a new password."""
        return await self._run(hash_password, password)

    def close(self) -> None:
        """Stop the threads once the checks in progress are done."""
        self._pool.shutdown(wait=False, cancel_futures=True)
