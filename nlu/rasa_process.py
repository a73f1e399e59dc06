"""Run a Rasa NLU server (`rasa run --enable-api`) as a managed child process."""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from nlu import paths

logger = logging.getLogger(__name__)


class RasaServerError(RuntimeError):
    """Raised when the Rasa server cannot be started or does not become ready."""


def find_free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_ready(url: str, timeout: float = 2.0) -> bool:
    """Return True when a Rasa server at `url` answers /status with a loaded model."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/status", timeout=timeout) as resp:
            if resp.status != 200:
                return False
            body = json.loads(resp.read().decode("utf-8") or "{}")
    except (OSError, ValueError):  # URLError, HTTPError (409: no model), timeouts, bad JSON
        return False
    return bool(body.get("model_file") or body.get("model_id"))


async def run_child(command: list[str], cwd: Path, log_file: Path) -> int:
    """Run a command in its own process group, output appended to `log_file`; its exit code.

    Awaiting never blocks the event loop; a cancelled caller kills the whole group (a
    training's `rasa` grandchildren included) before the cancellation goes on.
    """
    with log_file.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=cwd,
            env=paths.rasa_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        return await proc.wait()
    except BaseException:
        RasaServer._signal_group(proc, signal.SIGKILL)
        raise


class RasaServer:
    """A `rasa run --enable-api` child process in its own process group."""

    def __init__(
        self,
        model: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        log_dir: Path | None = None,
    ) -> None:
        """Prepare (but do not start) a server for `model`; port None picks a free one."""
        self.model = Path(model).resolve()
        self.host = host
        self.port = port if port is not None else find_free_port(host)
        log_dir = log_dir if log_dir is not None else paths.var_dir()
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = log_dir
        self.log_file = log_dir / f"rasa-server-{self.port}.log"  # Rasa's own --log-file
        self.output_file = log_dir / f"rasa-server-{self.port}.out"  # stdout + stderr
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. http://127.0.0.1:5005."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id of the running server, if started."""
        return self._proc.pid if self._proc is not None else None

    def running(self) -> bool:
        """Return True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def command(self) -> list[str]:
        """Return the command line that starts the server."""
        return [
            str(paths.rasa_executable()),
            "run",
            "--enable-api",
            "--model",
            str(self.model),
            "--port",
            str(self.port),
            "-i",
            self.host,
            "--log-file",
            str(self.log_file),
        ]

    def start(self) -> None:
        """Start the server process (returns at once; call wait_ready next)."""
        if self.running():
            return
        if not paths.rasa_executable().exists():
            raise RasaServerError(
                f"{paths.rasa_executable()} not found; run scripts/setup-rasa.sh first"
            )
        if not self.model.is_file():
            raise RasaServerError(f"model {self.model} does not exist")
        logger.info("starting Rasa on %s with %s (log: %s)", self.url, self.model, self.output_file)
        with self.output_file.open("ab") as out:
            self._proc = subprocess.Popen(
                self.command(),
                cwd=self.log_dir,  # no stray endpoints.yml/credentials.yml picked up
                env=paths.rasa_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group, so stop() reaches every child
            )
        atexit.register(self.stop)

    def _check_alive(self) -> None:
        """Raise with the log tail if the process has exited."""
        if self._proc is None:
            raise RasaServerError("Rasa server was not started")
        code = self._proc.poll()
        if code is not None:
            raise RasaServerError(
                f"Rasa server exited with code {code} before it was ready; "
                f"last lines of {self.output_file}:\n{paths.log_tail(self.output_file)}"
            )

    def _timeout_error(self, timeout: float) -> RasaServerError:
        """Build the error for a server that did not load its model in time."""
        return RasaServerError(
            f"Rasa server at {self.url} not ready after {timeout:.0f} s; "
            f"last lines of {self.output_file}:\n{paths.log_tail(self.output_file)}"
        )

    def wait_ready(self, timeout: float = 180.0, interval: float = 0.5) -> float:
        """Block until /status reports a loaded model; return the seconds waited."""
        started = time.monotonic()
        while True:
            self._check_alive()
            if server_ready(self.url, timeout=min(2.0, timeout)):
                waited = time.monotonic() - started
                logger.info("Rasa ready on %s after %.1f s", self.url, waited)
                return waited
            if time.monotonic() - started > timeout:
                raise self._timeout_error(timeout)
            time.sleep(interval)

    async def wait_ready_async(
        self,
        timeout: float = 180.0,  # noqa: ASYNC109 - mirrors wait_ready(timeout=...)
        interval: float = 0.5,
    ) -> float:
        """Await until /status reports a loaded model; return the seconds waited."""
        started = time.monotonic()
        while True:
            self._check_alive()
            if await asyncio.to_thread(server_ready, self.url, min(2.0, timeout)):
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise self._timeout_error(timeout)
            await asyncio.sleep(interval)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the process group, wait up to `timeout`, then SIGKILL it."""
        proc = self._proc
        if proc is None:
            return
        atexit.unregister(self.stop)
        if proc.poll() is None:
            logger.info("stopping Rasa on %s (pid %s)", self.url, proc.pid)
            self._signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                logger.warning("Rasa on %s ignored SIGTERM for %.0f s; killing", self.url, timeout)
        # Kill whatever is left of the group (the leader may be gone, children not).
        self._signal_group(proc, signal.SIGKILL)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            logger.error("Rasa process %s did not die after SIGKILL", proc.pid)
        self._proc = None

    @staticmethod
    def _signal_group(
        proc: subprocess.Popen[bytes] | asyncio.subprocess.Process, sig: signal.Signals
    ) -> None:
        """Send `sig` to the child's process group, ignoring a group that is gone."""
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> RasaServer:
        """Start the server and wait until it is ready."""
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()
