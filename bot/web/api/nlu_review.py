"""NLU review over the API: doubtful messages, relabelling, corrections as Rasa training data."""

from __future__ import annotations

from aiohttp import web

from bot.retraining import training_examples
from bot.runtime import RUNTIME
from bot.web.api.core import Param, endpoint, json_body, page, page_args, path_id, principal
from handlers import nlu_review as review
from nlu.evaluate_systems import nlu_yaml
from storage.accounts import audit
from storage.nlu_review import corrections, doubtful_messages
from storage.privacy import mask_text

REVIEW_ROLES = ("admin", "staff")


def _threshold(request: web.Request) -> float:
    raw = request.query.get("max_confidence") or "0.6"
    try:
        value = float(raw)
    except ValueError:
        raise web.HTTPBadRequest(text="max_confidence must be a number between 0 and 1") from None
    if not 0 <= value <= 1:
        raise web.HTTPBadRequest(text="max_confidence must be a number between 0 and 1")
    return value


@endpoint(
    "GET",
    "/api/nlu/review",
    "Messages the model was unsure of (fallback or low confidence)",
    roles=REVIEW_ROLES,
    paged=True,
    params=(Param("max_confidence", "below this counts as unsure (default 0.6)", "number"),),
    item={
        "id": "integer",
        "text": "string",
        "intent": "string?",
        "confidence": "number?",
        "created_at": "string",
    },
)
async def review_list(request: web.Request) -> web.Response:
    """GET /api/nlu/review."""
    runtime = request.app[RUNTIME]
    cursor, limit = page_args(request)
    threshold = _threshold(request)
    async with runtime.sessions() as session:
        found = await doubtful_messages(session, threshold, cursor, limit)
    items = [
        {
            "id": m.id,
            "text": mask_text(m.text or ""),
            "intent": m.intent,
            "confidence": m.confidence,
            "created_at": m.created_at.isoformat(),
        }
        for m in found
    ]
    return page(items, limit)


@endpoint(
    "POST",
    "/api/nlu/review/{id}",
    "Give a message its right intent",
    roles=REVIEW_ROLES,
    body={"intent": "string"},
    item={"id": "integer", "intent": "string"},
    errors=(409,),
)
async def relabel(request: web.Request) -> web.Response:
    """POST /api/nlu/review/{id} {"intent": "report_streetlight" or "faq/<key>"}."""
    runtime, who = request.app[RUNTIME], principal(request)
    number = path_id(request, "message")
    data = await json_body(request, ["intent"])
    intent = data["intent"].strip()
    async with runtime.sessions() as session, session.begin():
        await review.relabel(session, number, intent, who.name)
    return web.json_response({"id": number, "intent": intent})


@endpoint(
    "GET",
    "/api/nlu/corrections.yml",
    "The corrections as Rasa NLU training data",
    roles=REVIEW_ROLES,
    media=("text/yaml",),
    item={"version": "string", "nlu": "array?"},
)
async def export_corrections(request: web.Request) -> web.Response:
    """GET /api/nlu/corrections.yml: to commit into nlu/project/data/ (or retrain from it)."""
    runtime, who = request.app[RUNTIME], principal(request)
    async with runtime.sessions() as session, session.begin():
        pairs = await corrections(session)
        audit(session, who.name, "export", "nlu_corrections", f"{len(pairs)} examples")
    text = nlu_yaml(training_examples(pairs))  # the same file a retraining adds to the data
    return web.Response(text=text, content_type="text/yaml", charset="utf-8")
