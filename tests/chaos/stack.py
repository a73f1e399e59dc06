"""A real deployment for chaos runs: web and worker subprocesses, embedded Redis, a receiver."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.connectors.signing import signed_headers
from nlu.rasa_process import find_free_port
from storage.embedded_redis import EmbeddedRedis
from tests.support import LINK_KEY, SECRET, Receiver, message_body, write_config

REPO = Path(__file__).resolve().parents[2]
# Production-like worker timings (the unit tests' are shorter): a lock outlives a slow turn
# on a loaded machine, and the sweeper leaves a backlog to the queue.
CHAOS_WORKER = {
    "lock_timeout_seconds": 15,
    "reclaim_idle_seconds": 5,
    "sweep_after_seconds": 10,
    "sweep_interval_seconds": 2,
    "nlu_retry_seconds": 1,
}


@dataclass
class Platform:
    """The messaging platform's side: a signed-reply receiver that can fail, and a sender."""

    receiver: Receiver = field(default_factory=Receiver)
    url: str = ""
    sent: dict[str, str] = field(default_factory=dict)  # message id -> user id
    rejected: int = 0  # webhook answers other than 200, redelivered like a real platform
    rejections: list[str] = field(default_factory=list)  # what each of those answers was
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen for replies on a free local port."""
        app = web.Application()
        app.router.add_post("/outbound", self.receiver.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = find_free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/outbound"

    async def close(self) -> None:
        """Stop the receiver."""
        if self._runner is not None:
            await self._runner.cleanup()

    def failing(self, on: bool) -> None:
        """Make the send API answer 503 (on) or accept again (off)."""
        self.receiver.fail_next = 10**9 if on else 0

    def replied_ids(self) -> set[str]:
        """Ids of sent messages that received at least one reply."""
        return {p["reply_to"] for p in self.receiver.posts if p.get("reply_to") in self.sent}


async def deliver(
    http: aiohttp.ClientSession, base: str, platform: Platform, user: str, text: str, mid: str
) -> None:
    """POST one signed message, redelivering it (same id) until the webhook answers 200."""
    body = message_body(user, text, mid)
    platform.sent.setdefault(mid, user)
    for _ in range(600):
        try:
            async with http.post(
                f"{base}/webhooks/generic", data=body, headers=signed_headers(SECRET, body)
            ) as resp:
                if resp.status == 200:
                    return
                why = f"{resp.status} {(await resp.text())[:120]}"
        except (aiohttp.ClientError, TimeoutError) as error:
            why = repr(error)
        platform.rejected += 1
        platform.rejections.append(why)
        await asyncio.sleep(0.5)
    raise AssertionError(f"message {mid} never accepted by the webhook")


async def send_scripts(
    base: str,
    platform: Platform,
    scripts: dict[str, list[str]],
    *,
    copies: int = 1,
    parallel_users: int = 24,
) -> list[tuple[str, str, str]]:
    """Each resident sends their texts in order (users in parallel); returns (user, text, id)."""
    gate = asyncio.Semaphore(parallel_users)
    order: list[tuple[str, str, str]] = []
    timeout = aiohttp.ClientTimeout(total=10)

    async with aiohttp.ClientSession(timeout=timeout) as http:

        async def one_user(user: str, texts: list[str]) -> None:
            async with gate:
                for i, text in enumerate(texts):
                    mid = f"{user}-{i:03d}"
                    order.append((user, text, mid))
                    await asyncio.gather(
                        *(deliver(http, base, platform, user, text, mid) for _ in range(copies))
                    )

        await asyncio.gather(*(one_user(u, t) for u, t in scripts.items()))
    return order


class Stack:
    """One web process, N worker processes, an embedded Redis (appendonly) and the platform."""

    def __init__(
        self,
        directory: Path,
        db_url: str,
        nlu_url: str,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        self.directory = directory
        self.db_url = db_url
        self.nlu_url = nlu_url
        self.overrides = {"worker": CHAOS_WORKER, **(overrides or {})}
        self.redis = EmbeddedRedis(directory / "redis", appendonly=True)
        self.platform = Platform()
        self.port = find_free_port()
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._logs: list[Any] = []

    @property
    def base(self) -> str:
        """URL of the web process."""
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        (self.directory / "conf").mkdir(parents=True, exist_ok=True)
        return {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "LINLI_CONFIG": str(write_config(self.directory / "conf", self.overrides)),
            "LINLI_DATABASE_URL": self.db_url,
            "LINLI_REDIS_URL": self.redis.url,
            "LINLI_NLU_URL": self.nlu_url,
            "LINLI_GENERIC_SECRET": SECRET,
            "LINLI_SECRET_KEY": LINK_KEY,
            "LINLI_GENERIC_OUTBOUND_URL": self.platform.url,
            "LINLI_HTTP_PORT": str(self.port),
            "LINLI_VAR_DIR": str(self.directory / "var"),
        }

    def log_path(self, name: str) -> Path:
        """Where a process's output goes."""
        return self.directory / f"{name}.log"

    def _spawn(self, role: str, name: str) -> subprocess.Popen[bytes]:
        out = self.log_path(name).open("ab")
        self._logs.append(out)
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--role", role],
            env=self._env(),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def start_worker(self) -> subprocess.Popen[bytes]:
        """Start one more worker process."""
        worker = self._spawn("worker", f"worker-{len(self.workers)}")
        self.workers.append(worker)
        return worker

    async def start(self, workers: int = 2) -> None:
        """Start Redis, the receiver, the web process and the workers; wait for /healthz."""
        await asyncio.to_thread(self.redis.start)
        await self.platform.start()
        self.web = self._spawn("web", "web")
        for _ in range(workers):
            self.start_worker()
        deadline = time.monotonic() + 90
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(f"{self.base}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if self.web.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"web process did not start; see {self.log_path('web')}")
                await asyncio.sleep(0.3)

    async def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL), Redis and the receiver."""
        procs = [p for p in [self.web, *self.workers] if p is not None]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                await asyncio.to_thread(proc.wait, 20)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait, 5)
        for out in self._logs:
            out.close()
        await asyncio.to_thread(self.redis.stop)
        await self.platform.close()
