"""Runs the periodic jobs of the handler modules (APScheduler interval triggers, worker role)."""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.runtime import Runtime
from handlers.jobs import PeriodicJob

log = logging.getLogger(__name__)


async def run_job(runtime: Runtime, job: PeriodicJob, now: datetime | None = None) -> int:
    """Run one job once in its own transaction, then wake delivery for what it queued."""
    async with runtime.sessions() as session, session.begin():
        done = await job.func(session, runtime.services, now or runtime.clock())
    if done:
        log.info("job %s: %d done", job.name, done)
        runtime.wake_outbox()
    return done


class JobScheduler:
    """One APScheduler per worker process; jobs are idempotent, so processes may overlap."""

    def __init__(self, runtime: Runtime, jobs: list[PeriodicJob]) -> None:
        self.runtime = runtime
        self.jobs = jobs
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    async def _run_logged(self, job: PeriodicJob) -> None:
        try:
            await run_job(self.runtime, job)
        except Exception:
            log.exception("periodic job %s failed; it runs again at its next interval", job.name)

    def start(self) -> None:
        """Schedule every job (first run after one interval) and start the scheduler."""
        for job in self.jobs:
            self._scheduler.add_job(
                self._run_logged,
                "interval",
                seconds=job.seconds,
                args=[job],
                id=job.name,
                max_instances=1,
                coalesce=True,
            )
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop scheduling; a job already running is cancelled with the event loop's tasks."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
