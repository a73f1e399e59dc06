"""The console's NLU model page: retrain with one button, compare numbers, switch one in."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.retraining import RetrainBusy, SwitchFailed, activate, current_live, request_retrain
from bot.runtime import RUNTIME
from bot.web.api.core import Principal
from bot.web.api.nlu_models import SWITCH_ROLES, VIEW_ROLES, candidate_id, candidate_view, live_view
from bot.web.console.auth import check_csrf, page
from bot.web.console.notices import back_with
from bot.web.console.views import base_context
from storage.nlu_models import RUNNING, candidates
from storage.nlu_review import correction_count

log = logging.getLogger(__name__)
SHOWN = 10
STATUS_WORDS = {
    "training": "训练中",
    "evaluating": "评估中",
    "ready": "待切换",
    "failed": "失败",
    "live": "使用中",
    "retired": "已停用",
}
HEADLINE = (
    ("accuracy", "准确率"),
    ("macro_f1", "宏平均 F1"),
    ("entity_f1", "实体 F1"),
    ("report_gas_recall", "燃气报告召回率"),
)


def _row(label: str, live: float | None, mine: float | None) -> dict[str, Any]:
    """One line of the comparison: both numbers, the change, and whether it got better."""
    change = mine - live if live is not None and mine is not None else None
    mark = "" if change is None or abs(change) < 0.0005 else "better" if change > 0 else "worse"
    return {"label": label, "live": live, "mine": mine, "change": change, "mark": mark}


def comparison(live: dict[str, Any] | None, mine: dict[str, Any] | None) -> dict[str, Any]:
    """Headline and per-intent rows of a candidate against the live model."""
    live, mine = live or {}, mine or {}
    headline = [_row(label, live.get(key), mine.get(key)) for key, label in HEADLINE]
    live_intents, my_intents = live.get("intent_f1") or {}, mine.get("intent_f1") or {}
    intents = [
        _row(name, live_intents.get(name), my_intents.get(name))
        for name in sorted(set(live_intents) | set(my_intents))
    ]
    changed = sum(1 for r in intents if r["mark"])
    return {"headline": headline, "intents": intents, "changed": changed}


@page(*VIEW_ROLES)
async def models_page(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/nlu/models: the live model and the latest candidates side by side."""
    async with request.app[RUNTIME].sessions() as session:
        found = await candidates(session, None, SHOWN)
        pending = await correction_count(session)
    live = live_view(await current_live(request.app))
    items = []
    for candidate in found:
        view = candidate_view(candidate)
        view["compare"] = comparison(live["scores"] or candidate.baseline_scores, candidate.scores)
        items.append(view)
    context = base_context(
        request,
        who,
        live=live,
        items=items,
        corrections=pending or 0,
        busy=any(c.status in RUNNING for c in found),
        status_words=STATUS_WORDS,
        may_switch=who.role in SWITCH_ROLES,
    )
    return aiohttp_jinja2.render_template("nlu_models.html", request, context)


def _back(code: str, **numbers: int) -> web.HTTPSeeOther:
    return back_with("/admin/nlu/models", code, **numbers)


@page(*VIEW_ROLES)
async def retrain(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/nlu/models: start a retraining with the corrections so far."""
    await check_csrf(request)
    try:
        candidate = await request_retrain(request.app, who.name)
    except RetrainBusy:
        raise _back("retrain_busy") from None
    raise _back("retrain_started", n=candidate.id, k=candidate.corrections)


@page(*SWITCH_ROLES)
async def switch(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/nlu/models/{id}/activate: every Rasa replica loads the candidate."""
    await check_csrf(request)
    number = candidate_id(request)
    try:
        await activate(request.app, number, who.name)
    except SwitchFailed as failed:
        log.warning("candidate %s not switched in by %r: %s", number, who.name, failed)
        raise _back("switch_failed", n=number) from None
    except web.HTTPConflict as refused:
        log.info("candidate %s not switched in: %s", number, refused.text)
        raise _back("switch_refused", n=number) from None
    raise _back("switched", n=number)


def register(app: web.Application) -> None:
    """Add the NLU model page and its two forms."""
    app.router.add_get("/admin/nlu/models", models_page)
    app.router.add_post("/admin/nlu/models", retrain)
    app.router.add_post("/admin/nlu/models/{id}/activate", switch)
