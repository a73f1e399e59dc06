"""Shared bench helpers: percentiles, Markdown tables, signed sends, a reply receiver,
the service started as real processes (web and worker), and process memory.

Benches print figures and assert nothing; see docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.connectors.signing import signed_headers  # noqa: E402

SECRET = "bench-secret-0123456789"


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of seconds, in milliseconds; nan when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    """A Markdown table (floats with one decimal) for docs/benchmarks.md."""

    def cell(value: object) -> str:
        return f"{value:.1f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def machine_line() -> str:
    """Cores and load average, to print beside every figure (the machine is shared)."""
    one, five, _ = os.getloadavg()
    return f"machine: {os.cpu_count()} cores, load average {one:.2f} (1 min) {five:.2f} (5 min)"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signed_body(message_id: str, user: str, text: str) -> tuple[bytes, dict[str, str]]:
    """A generic-connector message and its signature headers."""
    body = json.dumps(
        {"message_id": message_id, "user_id": user, "chat_id": user, "text": text,
         "timestamp": int(time.time())}, ensure_ascii=False,
    ).encode()  # fmt: skip
    return body, signed_headers(SECRET, body)


@dataclass
class Receiver:
    """The platform's send endpoint: notes when the first reply to each message arrives."""

    port: int = field(default_factory=free_port)
    replies: dict[str, float] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    waiters: dict[str, asyncio.Future[str]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Where the service should post replies."""
        return f"http://127.0.0.1:{self.port}/outbound"

    async def _receive(self, request: web.Request) -> web.Response:
        data = json.loads(await request.read())
        key = data.get("reply_to") or ""
        if key and key not in self.replies:
            self.replies[key] = time.perf_counter()
            self.texts[key] = data.get("text") or ""
            waiter = self.waiters.pop(key, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(self.texts[key])
        return web.json_response({"ok": True})

    def expect(self, message_id: str) -> asyncio.Future[str]:
        """A future resolved with the text of the first reply to a message."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.waiters[message_id] = future
        return future

    async def start(self) -> None:
        """Listen on 127.0.0.1:port."""
        app = web.Application()
        app.router.add_post("/outbound", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()


def bench_config(directory: Path) -> Path:
    """config.yml as shipped (production timings), with the demo seed file's full path."""
    data = yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))
    data["seed_file"] = str(REPO / "seed" / "demo.yml")
    path = directory / "config.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def service_env(workdir: Path, db_url: str, redis_url: str, nlu_url: str,
                outbound_url: str) -> dict[str, str]:  # fmt: skip
    """Environment of a `linli serve` process of the bench."""
    return {
        **os.environ,
        "LINLI_CONFIG": str(bench_config(workdir)),
        "LINLI_DATABASE_URL": db_url,
        "LINLI_REDIS_URL": redis_url,
        "LINLI_NLU_URL": nlu_url,
        "LINLI_GENERIC_SECRET": SECRET,
        "LINLI_GENERIC_OUTBOUND_URL": outbound_url,
        "LINLI_SECRET_KEY": "bench-link-key-0123456789",
        "LINLI_VAR_DIR": str(workdir / "var"),
    }


@dataclass
class Service:
    """`linli serve` processes started by a bench: web ones listen on their own ports."""

    env: dict[str, str]
    log_dir: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    web_urls: list[str] = field(default_factory=list)

    def start(self, role: str, name: str) -> None:
        """Start one process of a role (web or worker)."""
        env = dict(self.env)
        if role == "web":
            port = free_port()
            env["LINLI_HTTP_PORT"] = str(port)
            self.web_urls.append(f"http://127.0.0.1:{port}")
        log = (self.log_dir / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--role", role],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    async def wait_ready(self, seconds: float = 60) -> None:
        """Wait until every web process answers /healthz (workers start alongside)."""
        deadline = time.monotonic() + seconds
        async with aiohttp.ClientSession() as session:
            for url in self.web_urls:
                while True:
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(f"{url}/healthz") as resp:
                            if resp.status == 200:
                                break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{url} did not start; logs in {self.log_dir}")
                    await asyncio.sleep(0.3)
        await asyncio.sleep(1.0)  # the workers' consumer groups and pools

    def stop(self) -> None:
        """SIGTERM every process, then SIGKILL what has not stopped within 20 s."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def fresh_sqlite(workdir: Path) -> str:
    """A migrated SQLite database with the demo community, in the bench's directory."""
    from storage.migrate import upgrade
    from tests.support import seed_demo

    url = f"sqlite+aiosqlite:///{workdir}/bench.db"
    upgrade(url)
    asyncio.run(seed_demo(url))
    return url


def fresh_postgres(base_url: str) -> str:
    """A new migrated PostgreSQL database (named linli_bench_*) next to base_url."""
    from sqlalchemy.engine import make_url

    from storage.migrate import upgrade
    from tests.support import seed_demo

    base = make_url(base_url)
    name = f"linli_bench_{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["psql", "-h", base.host or "127.0.0.1", "-p", str(base.port or 5432),
         "-U", base.username or "postgres", "-d", "postgres", "-qc", f"CREATE DATABASE {name}"],
        check=True,
    )  # fmt: skip
    url = base.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    asyncio.run(seed_demo(url))
    return url


def drop_postgres(url: str) -> None:
    """Drop a database made by fresh_postgres."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    subprocess.run(
        ["psql", "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-U",
         u.username or "postgres", "-d", "postgres", "-qc",
         f"DROP DATABASE IF EXISTS {u.database} WITH (FORCE)"],
        check=False,
    )  # fmt: skip


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A temporary directory for a bench's database, Redis and logs (kept on failure)."""
    path = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    (path / "logs").mkdir()
    yield path


def pid_listening(port: int) -> int | None:
    """The pid of the process listening on a local TCP port, if visible."""
    import psutil

    with contextlib.suppress(psutil.AccessDenied):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                return conn.pid
    return None


def rss_mib(pids: dict[str, int | None]) -> dict[str, float | None]:
    """Resident memory (MiB) of each named process, children included (Rasa forks)."""
    import psutil

    sizes: dict[str, float | None] = {}
    for name, pid in pids.items():
        try:
            proc = psutil.Process(pid) if pid else None
        except psutil.NoSuchProcess:
            proc = None
        if proc is None:
            sizes[name] = None
            continue
        total = proc.memory_info().rss
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        sizes[name] = total / 2**20
    return sizes


def cpu_seconds(pids: dict[str, int | None]) -> dict[str, float]:
    """User + system CPU seconds used so far by each named process, children included."""
    import psutil

    used: dict[str, float] = {}
    for name, pid in pids.items():
        if not pid:
            continue
        try:
            proc = psutil.Process(pid)
            procs = [proc, *proc.children(recursive=True)]
            used[name] = sum(sum(p.cpu_times()[:2]) for p in procs)
        except psutil.Error:
            continue
    return used
