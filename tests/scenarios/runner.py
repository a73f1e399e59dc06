"""Run the conversation scenarios against the real app and model; judge; summarise.

    .venv/bin/python -m tests.scenarios.runner --report var/scenario-report.json
    .venv/bin/python -m tests.scenarios.runner -k rehab-up-front --show   # a few, transcripts

(pytest runs the same through tests/e2e/test_scenarios.py, marker `scenarios`.)

How a scenario runs. Each gets its own community: a copy of one SQLite file migrated and
seeded once with the demo data of `make run` (seed/demo.yml), its own app (web and worker
roles, create_app, served by aiohttp's TestServer), and its own Redis database number, so
no two scenarios share a ticket to be merged with, a rehab place, an activity place, a
demo identity, a dialogue state or a clock. That isolation is what makes them safe to run
at the same time (--jobs of them, each on a free Redis database number 1…15). Sharing one
community between "fresh" residents was rejected: two residents reporting the same lamp
get one ticket (duplicate linking), so outcomes would depend on which ran first.

- the resident's messages go through the signed generic webhook (tests/support.post_signed);
  `fresh` is a new resident id, `user: daughter-1` sends as that seeded identity, `group:
  true` sends in the grid group chat grid-group-G01 (is_group, `mentioned` per turn);
- the real Rasa model parses them (LINLI_TEST_RASA_URL, or a server started here);
- after each turn the runner waits until the conversation is idle: no inbound message of
  the scenario's database is still waiting to be processed, and no reply or push is
  waiting or being sent (the replies reach a local receiver, tests/support.Receiver);
- the app's clock (Runtime.clock) is held at START, Monday 2026-11-30 10:00 in Shanghai
  (the demo's activities are in December 2026; the booking tests use the same morning),
  so relative days ("下周二", "明天") mean the same on every run. `{wait_minutes: N}` moves
  it N minutes on, ages every linli:* Redis key with a time to live by as much (a
  dialogue state 30 minutes old is forgotten as it would be), runs each periodic job once
  at the new time, and waits until idle again. The worker's own scheduler stays on: its
  jobs are idempotent, so an extra run at the held time changes nothing;
- at the end the judge (tests/scenarios/judge.py) reads the admin API and checks `expect`
  exactly as FORMAT.md words it; each unmet expectation is one line of the outcome.

SQLite only: this suite is about the conversation; the storage tiers run on both databases
in the rest of tests/. A scenario that cannot run (a wait that never ends, an API error)
is an error, never a verdict on the product.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import exists, select

from bot.app import create_app
from bot.config import Settings
from bot.runtime import RUNTIME, Runtime
from bot.scheduler import run_job
from handlers.modules import default_jobs
from nlu.timeparse import SHANGHAI
from storage.messages import PENDING, RECEIVED, SENDING, Message
from storage.migrate import upgrade
from storage.privacy import mask_name
from tests.scenarios.format import CLASSES, FLOWS, SEED, Scenario, load_scenarios
from tests.scenarios.judge import AdminAPI, Observed, baseline, judge, observe
from tests.support import Receiver, make_settings, message_body, post_signed, seed_demo

REPO = Path(__file__).resolve().parents[2]
REPORT = REPO / "var" / "scenario-report.json"
START = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)  # a Monday morning
ADMIN_TOKEN = "scenario-admin-token-0123456789abcdef"
GROUP_CHAT = "grid-group-G01"
GROUP_NAME = "王阿姨"  # the display name a group chat gives the member
TURN_SECONDS = 90.0  # a turn not idle after this long is a harness error
POLL_SECONDS = 0.03
MAX_JOBS = 15  # Redis database numbers 1…15 (0 is left to the rest of the test suite)
DEFAULT_JOBS = 8
SUMMARY: list[str] = []  # the last run's printed summary (tests/conftest.py prints it)
# Calmer background timings than the tests' FAST ones: about 400 apps run in one process
# and nothing here needs the sweeps (Redis stays up).
OVERRIDES: dict[str, Any] = {
    "worker": {"sweep_interval_seconds": 5, "sweep_after_seconds": 30, "drain_seconds": 5},
    "delivery": {"poll_seconds": 5},
}


class ScenarioError(Exception):
    """The scenario could not be run to its end (harness or environment, not the product)."""


@dataclass
class Outcome:
    """A scenario's result: passed, the unmet expectations, or the error that stopped it."""

    id: str
    flow: str
    classes: list[str]
    source: str
    failures: list[str] = field(default_factory=list)
    error: str | None = None
    trace: str | None = None  # where a run that could not finish stopped
    seconds: float = 0.0
    transcript: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Ran to its end and met every expectation."""
        return self.error is None and not self.failures


class ScenarioClock:
    """The app's clock: held at START, moved on by wait_minutes."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        """The resident was quiet this long."""
        self.now += timedelta(minutes=minutes)


def redis_db_url(url: str, number: int) -> str:
    """The same Redis server, database `number` (redis://host/N or unix://path?db=N)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(number)
        return f"unix://{parts.netloc}{parts.path}?{urlencode(query)}"
    return urlunsplit(parts._replace(path=f"/{number}"))


def check_roster_masks(seed_dir: Path = SEED) -> None:
    """Orders show elders masked (赵**): the judge can tell them apart only if no two mask alike."""
    data = yaml.safe_load((seed_dir / "home_care.yml").read_text(encoding="utf-8"))
    masks = Counter(mask_name(e["name"]) for e in data.get("care_elders", []))
    alike = [m for m, n in masks.items() if n > 1]
    if alike:
        raise ScenarioError(f"seeded elders mask alike ({alike}): orders cannot be judged by name")


class Harness:
    """What the scenarios of one run share: the seeded template, Rasa, Redis, the receiver."""

    def __init__(self, workdir: Path, rasa_url: str, redis_url: str, jobs: int) -> None:
        self.workdir = workdir
        self.rasa_url = rasa_url
        self.redis_url = redis_url
        self.jobs = max(1, min(jobs, MAX_JOBS))
        self.template = workdir / "template.db"
        self.receiver = Receiver()
        self._server: TestServer | None = None
        self.outbound_url = ""
        self.settings: Settings | None = None
        self._free: asyncio.Queue[int] = asyncio.Queue()

    async def __aenter__(self) -> Harness:
        check_roster_masks()
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.template.exists():
            url = f"sqlite+aiosqlite:///{self.template}"
            await asyncio.to_thread(upgrade, url)
            await seed_demo(url)
        app = web.Application()
        app.router.add_post("/outbound", self.receiver.handle)
        self._server = TestServer(app)
        await self._server.start_server()
        self.outbound_url = str(self._server.make_url("/outbound"))
        # read once: config.yml with OVERRIDES (each scenario changes only its URLs)
        self.settings = make_settings(
            self.workdir,
            f"sqlite+aiosqlite:///{self.template}",
            self.redis_url,
            self.rasa_url,
            self.outbound_url,
            OVERRIDES,
        ).model_copy(update={"admin_token": ADMIN_TOKEN})
        for number in range(1, self.jobs + 1):
            self._free.put_nowait(number)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            await self._server.close()

    async def run(self, scenario: Scenario) -> Outcome:
        """Run one scenario on a free Redis database number; never raises."""
        number = await self._free.get()
        started = time.monotonic()
        outcome = Outcome(scenario.id, scenario.flow, list(scenario.classes), scenario.source)
        try:
            seen = await self._run(scenario, number)
            outcome.failures = judge(scenario, seen)
            outcome.transcript = seen.transcript()
        except Exception as exc:  # a harness error is reported, the run goes on
            outcome.error = traceback.format_exception_only(type(exc), exc)[-1].strip()
            outcome.trace = traceback.format_exc()
        finally:
            self._free.put_nowait(number)
        outcome.seconds = round(time.monotonic() - started, 2)
        return outcome

    async def _run(self, scenario: Scenario, number: int) -> Observed:
        directory = self.workdir / scenario.id
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        db = directory / "linli.db"
        await asyncio.to_thread(shutil.copy, self.template, db)
        redis_url = redis_db_url(self.redis_url, number)
        # the harness's own client: no read timeout (redis-py's default is 5 s, which a
        # machine busy with other work can exceed; the app's client keeps its own settings)
        keys = aioredis.Redis.from_url(redis_url, socket_timeout=None)
        try:
            await keys.flushdb()
            return await self._converse(scenario, directory, db, redis_url, keys)
        finally:
            await keys.aclose()
            shutil.rmtree(directory, ignore_errors=True)

    async def _converse(
        self, scenario: Scenario, directory: Path, db: Path, redis_url: str, keys: aioredis.Redis
    ) -> Observed:
        assert self.settings is not None
        settings = self.settings.model_copy(
            update={
                "database_url": f"sqlite+aiosqlite:///{db}",
                "redis_url": redis_url,
                "var_dir": directory / "var",
            }
        )
        client = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        try:
            runtime = client.app[RUNTIME]
            clock = ScenarioClock()
            runtime.clock = clock
            api = AdminAPI(client, ADMIN_TOKEN)
            before = await baseline(api)
            user = (
                scenario.user if scenario.needs_demo_identity else f"fresh-{uuid.uuid4().hex[:12]}"
            )
            for turn in scenario.turns:
                if turn.wait_minutes is not None:
                    await pass_time(runtime, keys, clock, turn.wait_minutes)
                    continue
                assert turn.text is not None
                extra: dict[str, Any] = {}
                if scenario.group:
                    extra = {
                        "chat_id": GROUP_CHAT,
                        "is_group": True,
                        "mentioned": turn.mentioned,
                        "user_name": GROUP_NAME,
                    }
                body = message_body(user, turn.text, uuid.uuid4().hex, **extra)
                resp = await post_signed(client, body)
                if resp.status != 200:
                    raise ScenarioError(f"webhook answered {resp.status}: {await resp.text()}")
                await until_idle(runtime, turn.text)
            return await observe(api, before)
        finally:
            await client.close()


async def until_idle(runtime: Runtime, what: str, within: float = TURN_SECONDS) -> None:
    """Wait until every stored message is processed and every reply and push is sent."""
    waiting = select(
        exists().where(Message.direction == "in", Message.status == RECEIVED),
        exists().where(Message.direction == "out", Message.status.in_((PENDING, SENDING))),
    )
    deadline = time.monotonic() + within
    while True:
        async with runtime.sessions() as session:
            inbound, outbound = (await session.execute(waiting)).one()
        if not inbound and not outbound:
            return
        if time.monotonic() > deadline:
            state = "messages waiting" if inbound else "replies unsent"
            raise ScenarioError(f"not idle {within:.0f} s after {what!r} ({state})")
        await asyncio.sleep(POLL_SECONDS)


async def age_redis(client: aioredis.Redis, minutes: float) -> None:
    """Take `minutes` off every linli:* key's time to live; keys whose time is up go."""
    gone = int(minutes * 60_000)
    async for key in client.scan_iter(match="linli:*", count=500):
        left = await client.pttl(key)
        if left < 0:  # -1: kept for ever, -2: already gone
            continue
        if left <= gone:
            await client.delete(key)
        else:
            await client.pexpire(key, left - gone)


async def pass_time(
    runtime: Runtime, keys: aioredis.Redis, clock: ScenarioClock, minutes: float
) -> None:
    """The resident is quiet for a while: clock on, Redis aged, periodic jobs run once."""
    clock.advance(minutes)
    await age_redis(keys, minutes)
    for job in default_jobs():
        await run_job(runtime, job)
    await until_idle(runtime, f"wait_minutes {minutes:g}")


async def run_scenarios(
    scenarios: Sequence[Scenario],
    *,
    rasa_url: str,
    redis_url: str,
    workdir: Path,
    jobs: int = DEFAULT_JOBS,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Run scenarios, `jobs` at a time; outcomes in the scenarios' order."""
    async with Harness(workdir, rasa_url, redis_url, jobs) as harness:

        async def one(scenario: Scenario) -> Outcome:
            outcome = await harness.run(scenario)
            if progress is not None:
                progress(outcome)
            return outcome

        return list(await asyncio.gather(*(one(s) for s in scenarios)))


def _rates(
    outcomes: Iterable[Outcome], key: Callable[[Outcome], Iterable[str]], order: Sequence[str]
) -> dict[str, dict[str, Any]]:
    counts: dict[str, list[int]] = {}
    for outcome in outcomes:
        for name in key(outcome):
            tally = counts.setdefault(name, [0, 0])
            tally[0] += 1
            tally[1] += outcome.passed
    ranked = sorted(counts, key=lambda n: order.index(n) if n in order else len(order))
    return {
        n: {
            "scenarios": counts[n][0],
            "passed": counts[n][1],
            "rate": round(counts[n][1] / counts[n][0], 3),
        }
        for n in ranked
    }


def summarise(
    outcomes: Sequence[Outcome], seconds: float, jobs: int, total: int | None = None
) -> dict[str, Any]:
    """The report: pass rates overall, per flow and per class; failures grouped by class.

    total is how many scenarios the suite has (a run of some of them says so).
    """
    passed = sum(o.passed for o in outcomes)
    by_class: dict[str, list[dict[str, Any]]] = {}
    for outcome in outcomes:
        if outcome.passed:
            continue
        for name in outcome.classes:
            by_class.setdefault(name, []).append(
                {"id": outcome.id, "reasons": outcome.failures or [f"error: {outcome.error}"]}
            )
    return {
        "commit": _commit(),
        "run_at": datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "clock_start": START.isoformat(),
        "seconds": round(seconds, 1),
        "jobs": jobs,
        "scenarios": len(outcomes),
        "of": total if total is not None else len(outcomes),
        "passed": passed,
        "errors": sum(o.error is not None for o in outcomes),
        "rate": round(passed / len(outcomes), 3) if outcomes else 0.0,
        "by_flow": _rates(outcomes, lambda o: [o.flow], FLOWS),
        "by_class": _rates(outcomes, lambda o: o.classes, CLASSES),
        "failures_by_class": {
            n: by_class[n] for n in sorted(by_class, key=lambda n: (-len(by_class[n]), n))
        },
        "outcomes": [
            {**asdict(o), "passed": o.passed, "transcript": o.transcript if not o.passed else []}
            for o in outcomes
        ],
    }


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "-uno"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return done.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except OSError:
        return "unknown"


def format_summary(report: dict[str, Any], examples: int = 3) -> list[str]:
    """The printed summary: rates, then each class's failures with a few examples."""
    lines = [
        f"scenarios: {report['passed']}/{report['scenarios']} passed ({report['rate']:.1%})"
        + (f" (a selection of {report['of']})" if report["of"] != report["scenarios"] else "")
        + ", "
        f"{report['errors']} could not run; {report['seconds']:.0f} s with {report['jobs']} "
        f"at a time; code {report['commit']}",
        "per flow:  "
        + "  ".join(f"{n} {r['passed']}/{r['scenarios']}" for n, r in report["by_flow"].items()),
        "per class: "
        + "  ".join(f"{n} {r['passed']}/{r['scenarios']}" for n, r in report["by_class"].items()),
    ]
    for name, failed in report["failures_by_class"].items():
        lines.append(f"failing in {name} ({len(failed)}):")
        lines += [f"  {f['id']}: {f['reasons'][0]}" for f in failed[:examples]]
    return lines


def write_report(report: dict[str, Any], path: Path = REPORT) -> None:
    """Write the report as JSON (UTF-8, readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def known_failure_lines(outcomes: Sequence[Outcome]) -> list[str]:
    """tests/scenarios/known_failures.txt: each failing id with its first reason as a comment."""
    lines = [
        "# Scenarios that fail on today's conversation code (tests/e2e/test_scenarios.py: xfail, strict).",
        "# One id per line, the first unmet expectation as the comment. A listed scenario must",
        "# still fail; take it off when it passes. Regenerate with",
        "#   .venv/bin/python -m tests.scenarios.runner --known-failures tests/scenarios/known_failures.txt",
    ]
    for outcome in outcomes:
        if outcome.error is None and outcome.failures:
            reason = " ".join(outcome.failures[0].split())
            more = f" (+{len(outcome.failures) - 1} more)" if len(outcome.failures) > 1 else ""
            lines.append(f"{outcome.id}  # {reason[:160]}{more}")
    return lines


def select_scenarios(scenarios: Sequence[Scenario], patterns: Sequence[str]) -> list[Scenario]:
    """Scenarios whose id contains any of the patterns (all when none is given)."""
    if not patterns:
        return list(scenarios)
    return [s for s in scenarios if any(p in s.id for p in patterns)]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run (some of) the scenarios against the current code and write the report."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.scenarios.runner", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--report", type=Path, default=REPORT, help="where to write the JSON report"
    )
    parser.add_argument(
        "-k",
        action="append",
        default=[],
        metavar="PART",
        help="only scenarios whose id contains PART (repeatable)",
    )
    parser.add_argument(
        "--jobs", type=int, default=DEFAULT_JOBS, help=f"scenarios at a time (1-{MAX_JOBS})"
    )
    parser.add_argument(
        "--rasa-url",
        default=os.environ.get("LINLI_TEST_RASA_URL"),
        help="a running Rasa server (default LINLI_TEST_RASA_URL, else one is started)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("LINLI_TEST_REDIS_URL"),
        help="a Redis server to use databases 1-15 of (default: an embedded one)",
    )
    parser.add_argument("--show", action="store_true", help="print each failing transcript")
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="run the scenarios of another folder (tests/scenarios/heldout: the held-out set)",
    )
    parser.add_argument(
        "--known-failures",
        type=Path,
        metavar="PATH",
        help="also write the failing ids with their reasons (known_failures.txt)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    chosen = select_scenarios(load_scenarios(args.dir) if args.dir else load_scenarios(), args.k)
    if not chosen:
        print("no scenario matches", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="linli-scenarios-") as tmp:
        with _rasa(args.rasa_url) as rasa_url, _redis(args.redis_url, Path(tmp)) as redis_url:
            started = time.monotonic()
            done = [0]

            def progress(outcome: Outcome) -> None:
                done[0] += 1
                mark = "ok  " if outcome.passed else ("ERR " if outcome.error else "FAIL")
                print(
                    f"[{done[0]}/{len(chosen)}] {mark} {outcome.id} ({outcome.seconds:.1f} s)",
                    flush=True,
                )

            outcomes = asyncio.run(
                run_scenarios(
                    chosen,
                    rasa_url=rasa_url,
                    redis_url=redis_url,
                    workdir=Path(tmp) / "run",
                    jobs=args.jobs,
                    progress=progress,
                )
            )
            seconds = time.monotonic() - started
    report = summarise(outcomes, seconds, min(args.jobs, MAX_JOBS), total=len(load_scenarios()))
    if args.show:
        for outcome in outcomes:
            if not outcome.passed:
                print(f"\n== {outcome.id} ({outcome.source})")
                print("\n".join(outcome.failures or [f"error: {outcome.error}"]))
                print("\n".join(outcome.transcript))
    print("\n".join(format_summary(report)))
    write_report(report, args.report)
    print(f"report: {args.report}")
    if args.known_failures:
        args.known_failures.write_text(
            "\n".join(known_failure_lines(outcomes)) + "\n", encoding="utf-8"
        )
        print(f"known failures: {args.known_failures}")
    return 0


class _rasa:
    """The given Rasa URL, or a server with the current model started for the run."""

    def __init__(self, url: str | None) -> None:
        self.url = url.rstrip("/") if url else None
        self.server: Any = None

    def __enter__(self) -> str:
        if self.url:
            return self.url
        from nlu.rasa_process import RasaServer
        from nlu.train import train

        self.server = RasaServer(train())
        self.server.start()
        self.server.wait_ready(timeout=300)
        return str(self.server.url)

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stop()


class _redis:
    """The given Redis URL, or an embedded server in the run's directory."""

    def __init__(self, url: str | None, directory: Path) -> None:
        self.url = url
        self.directory = directory
        self.server: Any = None

    def __enter__(self) -> str:
        if self.url:
            return self.url
        from storage.embedded_redis import EmbeddedRedis

        self.server = EmbeddedRedis(self.directory / "redis", appendonly=False)
        return str(self.server.start())

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stop()


if __name__ == "__main__":
    sys.exit(main())
