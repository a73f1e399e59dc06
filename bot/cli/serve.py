"""Run the aiohttp application in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web

from bot.app import create_app
from bot.config import Settings
from bot.web.http_limits import runner_limits

log = logging.getLogger(__name__)


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run the service's coroutine on uvloop (libuv: less CPU per request and per Redis or
    database round trip than asyncio's own loop), or on asyncio's where uvloop is missing."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)


async def serve(
    settings: Settings,
    *,
    web_role: bool = True,
    worker_role: bool = True,
    on_started: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Serve until a stop signal, then shut down the site, workers and connections in order."""
    app = create_app(settings, web_role=web_role, worker_role=worker_role)
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, **runner_limits(settings.file.http)
    )
    await runner.setup()
    if web_role:
        site = web.TCPSite(runner, settings.http_host, settings.http_port, shutdown_timeout=5)
        await site.start()
        log.info("listening on http://%s:%s", settings.http_host, settings.http_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set():
            log.info("already stopping: letting the work in flight finish")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        if on_started is not None:
            await on_started()
        await stop.wait()
        log.info("stopping: no new work; draining what is in flight")
    finally:
        try:
            await runner.cleanup()  # a second signal during the drain does not cut it short
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        left = [
            t.name
            for t in threading.enumerate()
            if not t.daemon and t is not threading.main_thread()
        ]
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            log.warning("task still running at stop: %s", task.get_name())
            task.print_stack(limit=6)
        log.info("stopped%s", f" (threads still running: {', '.join(left)})" if left else "")
