"""NLU models over the API: retrain from the corrections, compare numbers, switch one in."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.responses import error
from bot.retraining import (
    LiveModel,
    RetrainBusy,
    SwitchFailed,
    activate,
    current_live,
    request_retrain,
)
from bot.runtime import RUNTIME
from bot.web.api.core import endpoint, page_args, principal
from nlu.evaluate_heldout import cached_scores, model_key
from storage.nlu_models import NluModel, candidates

VIEW_ROLES = ("admin", "staff")  # staff relabel messages, so they may retrain and compare
SWITCH_ROLES = ("admin",)  # switching changes every answer the bot gives: admins only
ITEM = {
    "id": "integer",
    "status": "string",
    "reason": "string",
    "requested_by": "string",
    "corrections": "integer",
    "model_hash": "string",
    "scores": "object",
    "baseline": "object",
    "created_at": "string",
    "finished_at": "string",
    "activated_at": "string",
}


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def candidate_view(candidate: NluModel) -> dict[str, Any]:
    """A candidate as the API shows it, with the live model's numbers when it was scored."""
    return {
        "id": candidate.id,
        "status": candidate.status,
        "reason": candidate.reason,
        "requested_by": candidate.requested_by,
        "corrections": candidate.corrections,
        "model_hash": candidate.model_hash,
        "scores": candidate.scores,
        "baseline": {"model_hash": candidate.baseline_hash, "scores": candidate.baseline_scores},
        "created_at": _when(candidate.created_at),
        "finished_at": _when(candidate.finished_at),
        "activated_at": _when(candidate.activated_at),
    }


def live_view(live: LiveModel) -> dict[str, Any]:
    """What the replicas serve now and its held-out numbers (None until scored once)."""
    if live.record is not None:
        return {
            "id": live.record.id,
            "source": "switched_in",
            "model_hash": live.record.model_hash,
            "scores": live.record.scores,
        }
    scores = cached_scores(live.path) if live.path else None
    key = model_key(live.path) if live.path else None
    return {"id": None, "source": "committed_data", "model_hash": key, "scores": scores}


def candidate_id(request: web.Request) -> int:
    """The {id} of the path as a number, or 400."""
    raw = request.match_info["id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:  # not "³" (a digit to isdigit)
        raise web.HTTPBadRequest(text="the model id is a whole number")
    return int(raw)


@endpoint(
    "GET",
    "/api/nlu/models",
    "Retrained model candidates beside the live model's numbers",
    roles=VIEW_ROLES,
    paged=True,
    item=ITEM,
)
async def list_models(request: web.Request) -> web.Response:
    """GET /api/nlu/models: {"items": [...], "next": cursor, "live": {...}}."""
    cursor, limit = page_args(request)
    async with request.app[RUNTIME].sessions() as session:
        found = await candidates(session, cursor, limit)
    items = [candidate_view(c) for c in found]
    live = live_view(await current_live(request.app))
    next_cursor = str(items[-1]["id"]) if len(items) == limit and items else None
    return web.json_response({"items": items, "next": next_cursor, "live": live})


@endpoint(
    "GET",
    "/api/nlu/models/{id}",
    "One model candidate with its numbers",
    roles=VIEW_ROLES,
    item=ITEM,
)
async def show_model(request: web.Request) -> web.Response:
    """GET /api/nlu/models/{id}."""
    async with request.app[RUNTIME].sessions() as session:
        found = await session.get(NluModel, candidate_id(request))
    if found is None:
        raise web.HTTPNotFound(text="no such model candidate")
    return web.json_response(candidate_view(found))


@endpoint(
    "POST",
    "/api/nlu/models",
    "Retrain: committed data plus the corrections, then score",
    roles=VIEW_ROLES,
    item=ITEM,
)
async def retrain(request: web.Request) -> web.Response:
    """POST /api/nlu/models: 202 with the new candidate, or 409 while another one runs."""
    try:
        candidate = await request_retrain(request.app, principal(request).name)
    except RetrainBusy as busy:
        return error(409, "conflict", str(busy))
    return web.json_response(candidate_view(candidate), status=202)


@endpoint(
    "POST",
    "/api/nlu/models/{id}/activate",
    "Switch every Rasa replica to this candidate and record it as live",
    roles=SWITCH_ROLES,
    item=ITEM,
)
async def switch(request: web.Request) -> web.Response:
    """POST /api/nlu/models/{id}/activate: 200, or 502 naming the replicas that refused."""
    try:
        candidate = await activate(request.app, candidate_id(request), principal(request).name)
    except SwitchFailed as failed:
        reverted = f" (put back on the previous model: {', '.join(failed.reverted)})"
        return error(502, "replica_failed", str(failed) + (reverted if failed.reverted else ""))
    return web.json_response(candidate_view(candidate))
