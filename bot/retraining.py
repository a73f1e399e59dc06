"""Retrain the NLU model from staff corrections, score it, and switch every Rasa replica to it.

One retraining at a time across processes (a Redis lock held while the job trains and
scores); training and scoring run in child processes, so the event loop never waits on them.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from bot.runtime import RUNTIME
from bot.tasks import background_task, cancel_and_wait
from handlers.retention import ERASED
from nlu.evaluate import Example
from nlu.evaluate_heldout import model_key, score_model
from nlu.evaluate_systems import nlu_yaml
from nlu.paths import log_tail
from nlu.rasa_process import run_child
from nlu.train import TrainingError, copy_project, latest_model, model_path_for, training_hash
from storage import nlu_models as store
from storage.accounts import audit
from storage.base import existing
from storage.nlu_review import corrections
from storage.parse_cache import PREFIX as PARSE_CACHE_PREFIX
from storage.privacy import mask_text

log = logging.getLogger(__name__)

LOCK_KEY = "linli:lock:nlu-retrain"
LOCK_SECONDS = 120  # renewed while the job runs: a crashed process frees it within minutes
CORRECTIONS_FILE = "review_corrections.yml"  # in the candidate's data/, beside the committed
LOAD_SECONDS = 900  # a replica loading a model answers nothing else (seconds idle, minutes busy)
TASKS: web.AppKey[set[asyncio.Task[Any]]] = web.AppKey("nlu_retrain_tasks")


class RetrainBusy(Exception):
    """Another retraining holds the lock; the message says which."""


class SwitchFailed(Exception):
    """Some replica did not load the model; `failed` maps its URL to the reason."""

    def __init__(self, failed: dict[str, str], reverted: list[str]) -> None:
        """Name the replicas that refused and those put back on the previous model."""
        self.failed, self.reverted = failed, reverted
        names = "; ".join(f"{url}: {why}" for url, why in failed.items())
        super().__init__(f"not switched: {names}")


@dataclass(frozen=True)
class LiveModel:
    """The model replicas serve: a switched-in candidate, else the committed data's model."""

    path: Path | None
    record: store.NluModel | None


def training_examples(pairs: list[tuple[str, str]]) -> list[Example]:
    """Corrections as training examples: numbers masked, erased texts left out."""
    examples = []
    for intent, text in pairs:
        clean = " ".join(mask_text(text).split())
        if clean and clean != ERASED:
            examples.append(Example(text=clean, intent=intent))
    return examples


async def current_live(app: web.Application) -> LiveModel:
    """The recorded live model when its file exists, else the committed data's cached model."""
    async with app[RUNTIME].sessions() as session:
        record = await store.live_model(session)
    path = Path(record.model_path) if record is not None and record.model_path else None
    if record is not None and path is not None and await asyncio.to_thread(path.is_file):
        return LiveModel(path, record)
    if record is not None:
        log.warning("live NLU model %s is missing; using the committed data's", record.model_path)
    return LiveModel(await asyncio.to_thread(latest_model), None)


async def request_retrain(app: web.Application, who: str) -> store.NluModel:
    """Start a retraining with the corrections so far, or raise RetrainBusy."""
    runtime = app[RUNTIME]
    lock = runtime.redis.lock(LOCK_KEY, timeout=LOCK_SECONDS, thread_local=False)
    if not await lock.acquire(blocking=False):
        async with runtime.sessions() as session:
            running = await store.running_candidate(session)
        detail = (
            f"candidate {running.id} ({running.status}, asked by {running.requested_by})"
            if running
            else "another one"
        )
        raise RetrainBusy(f"a retraining is already running: {detail}; wait until it is done")
    try:
        async with runtime.sessions() as session, session.begin():
            await store.fail_interrupted(session, runtime.clock())
            examples = training_examples(await corrections(session))
            candidate = await store.start_candidate(session, who, len(examples))
            audit(session, who, "retrain", f"nlu_model:{candidate.id}", f"{len(examples)} corr.")
    except BaseException:
        await lock.release()
        raise
    job = _retrain(app, candidate.id, examples, lock)
    task = background_task(job, f"nlu-retrain-{candidate.id}")
    app[TASKS].add(task)
    task.add_done_callback(app[TASKS].discard)
    return candidate


def candidate_dir(app: web.Application, candidate_id: int) -> Path:
    """Where a candidate's training project and logs are kept."""
    return app[RUNTIME].settings.var_dir.resolve() / "nlu-candidates" / str(candidate_id)


def _lay_out(folder: Path, examples: list[Example]) -> Path:
    """The committed project plus the corrections file (none when there is nothing new)."""
    project = copy_project(folder / "project")
    if examples:
        (project / "data" / CORRECTIONS_FILE).write_text(nlu_yaml(examples), encoding="utf-8")
    return project


async def _keep_lock(lock: Lock) -> None:
    while True:
        await asyncio.sleep(LOCK_SECONDS / 4)
        try:
            await lock.reacquire()
        except (LockError, RedisError) as exc:
            log.warning("could not renew the retraining lock: %s", exc)


async def _update(app: web.Application, candidate_id: int, **values: Any) -> None:
    async with app[RUNTIME].sessions() as session, session.begin():
        candidate = await session.get(store.NluModel, candidate_id)
        if candidate is not None:
            for name, value in values.items():
                setattr(candidate, name, value)


async def _train(folder: Path, project: Path, live: LiveModel) -> Path:
    """Run nlu.train in a child process (a cache hit when the data is unchanged)."""
    protect = [str(live.path)] if live.path else []
    command = [sys.executable, "-m", "nlu.train", str(project), str(folder / "train.log"), *protect]
    code = await run_child(command, folder, folder / "job.log")
    model = model_path_for(await asyncio.to_thread(training_hash, project))
    if code != 0 or not await asyncio.to_thread(model.is_file):
        raise TrainingError(f"training failed (exit {code}): {log_tail(folder / 'job.log', 8)}")
    return model


async def _retrain(
    app: web.Application, candidate_id: int, examples: list[Example], lock: Lock
) -> None:
    """Train, score the candidate and the live model on the held-out file, record the numbers."""
    runtime, folder = app[RUNTIME], candidate_dir(app, candidate_id)
    keeper = background_task(_keep_lock(lock), f"nlu-retrain-lock-{candidate_id}")
    try:
        project = await asyncio.to_thread(_lay_out, folder, examples)
        live = await current_live(app)
        model = await _train(folder, project, live)
        await _update(
            app,
            candidate_id,
            status=store.EVALUATING,
            model_path=str(model),
            model_hash=model_key(model),
        )
        scores = await score_model(model, project=project)
        baseline = await score_model(live.path) if live.path else None
        await _update(
            app,
            candidate_id,
            status=store.READY,
            scores=scores,
            baseline_scores=baseline,
            baseline_hash=model_key(live.path) if live.path else None,
            finished_at=runtime.clock(),
        )
        log.info("NLU candidate %s ready: macro-F1 %.3f", candidate_id, scores["macro_f1"])
    except asyncio.CancelledError:
        await _update(
            app,
            candidate_id,
            status=store.FAILED,
            finished_at=runtime.clock(),
            reason="stopped: the server shut down during the retraining",
        )
        raise
    except Exception as exc:  # recorded for staff: a failed candidate says why
        log.exception("NLU candidate %s failed", candidate_id)
        await _update(
            app,
            candidate_id,
            status=store.FAILED,
            reason=str(exc)[:4000],
            finished_at=runtime.clock(),
        )
    finally:
        keeper.cancel()
        try:
            await lock.release()
        except (LockError, RedisError) as exc:
            log.warning("retraining lock already gone: %s", exc)


async def _load(http: aiohttp.ClientSession, url: str, model: Path) -> str | None:
    """Ask one Rasa replica to load a model file (PUT /model); None or the reason it failed."""
    try:
        async with http.put(f"{url.rstrip('/')}/model", json={"model_file": str(model)}) as resp:
            if resp.status in (200, 204):
                return None
            return f"HTTP {resp.status}: {(await resp.text())[:300]}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"unreachable ({exc.__class__.__name__}: {exc})"[:300]


async def _clear_parse_cache(app: web.Application) -> None:
    """Forget parses by the previous model (best effort)."""
    redis = app[RUNTIME].redis
    try:
        keys = [key async for key in redis.scan_iter(match=PARSE_CACHE_PREFIX + "*", count=500)]
        if keys:
            await redis.delete(*keys)
    except RedisError as exc:
        log.warning("could not clear the parse cache: %s", exc)


async def activate(app: web.Application, candidate_id: int, who: str) -> store.NluModel:
    """Load a candidate into every configured Rasa URL, then record it live (the old retired)."""
    runtime = app[RUNTIME]
    async with runtime.sessions() as session:
        candidate = await session.get(store.NluModel, candidate_id)
    if candidate is None:
        raise web.HTTPNotFound(text="no such model candidate")
    if candidate.status not in store.SWITCHABLE or not candidate.model_path:
        raise web.HTTPConflict(text=f"a {candidate.status} candidate cannot be switched in")
    model = Path(candidate.model_path)
    if not await asyncio.to_thread(model.is_file):
        raise web.HTTPConflict(text=f"the model file {model.name} is gone; retrain")
    previous = await current_live(app)
    urls = runtime.settings.nlu_urls
    timeout = aiohttp.ClientTimeout(total=LOAD_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        answers = await asyncio.gather(*(_load(http, url, model) for url in urls))
        failed = {url: why for url, why in zip(urls, answers, strict=True) if why}
        reverted: list[str] = []
        if failed and previous.path is not None and previous.path != model:
            for url in (u for u in urls if u not in failed):
                if await _load(http, url, previous.path) is None:
                    reverted.append(url)
    async with runtime.sessions() as session, session.begin():
        if failed:
            audit(
                session,
                who,
                "activate_failed",
                f"nlu_model:{candidate_id}",
                "; ".join(f"{u}: {w}" for u, w in failed.items())[:2000],
            )
        else:
            candidate = await existing(session, store.NluModel, candidate_id)
            old = await store.make_live(session, candidate, runtime.clock())
            audit(
                session,
                who,
                "activate_model",
                f"nlu_model:{candidate_id}",
                f"{model.name}; retired {old.id if old else 'the committed model'}",
            )
    if failed:
        raise SwitchFailed(failed, reverted)
    await _clear_parse_cache(app)
    log.info("NLU model %s (candidate %s) live on %s", model.name, candidate_id, ", ".join(urls))
    return candidate


async def _stop_retrains(app: web.Application) -> None:
    running: set[asyncio.Task[Any]] = app[TASKS]
    await cancel_and_wait(list(running), wait_seconds=20)


def register(app: web.Application) -> None:
    """Track this app's retraining jobs; they are stopped (children killed) at shutdown."""
    app[TASKS] = set()
    app.on_shutdown.append(_stop_retrains)
