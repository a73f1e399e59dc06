"""The console's NLU review page: doubtful messages, relabel each, then retrain from them."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.runtime import RUNTIME
from bot.web.api.core import Principal
from bot.web.api.nlu_review import REVIEW_ROLES
from bot.web.console.auth import check_csrf, page
from bot.web.console.notices import back_with
from bot.web.console.views import base_context
from handlers import nlu_review as review
from handlers.errors import Conflict, Invalid
from nlu.contract import known_intents
from storage.base import row_id
from storage.nlu_review import correction_count, doubtful_messages
from storage.privacy import mask_text

SHOWN = 50
UNSURE_BELOW = 0.6  # the API's default for "doubtful"


def _back(code: str, **numbers: int) -> web.HTTPSeeOther:
    return back_with("/admin/nlu/review", code, **numbers)


@page(*REVIEW_ROLES)
async def review_page(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/nlu/review: unsure or fallback messages, newest first, each with a form."""
    async with request.app[RUNTIME].sessions() as session:
        found = await doubtful_messages(session, UNSURE_BELOW, None, SHOWN)
        done = await correction_count(session)
    items = [
        {
            "id": m.id,
            "text": mask_text(m.text or ""),
            "intent": m.intent,
            "confidence": m.confidence,
            "at": m.created_at.isoformat()[:16].replace("T", " "),
        }
        for m in found
    ]
    context = base_context(
        request,
        who,
        items=items,
        intents=sorted(known_intents()),
        corrections=done or 0,
        unsure_below=UNSURE_BELOW,
    )
    return aiohttp_jinja2.render_template("nlu_review.html", request, context)


@page(*REVIEW_ROLES)
async def relabel(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/nlu/review/{id}: record the intent the message really had."""
    form = await check_csrf(request)
    intent = str(form.get("intent", "")).strip()
    number = row_id(request.match_info["id"])
    async with request.app[RUNTIME].sessions() as session, session.begin():
        try:
            message = await review.relabel(session, number, intent, who.name)
        except Invalid:
            raise _back("intent_invalid") from None
        except Conflict:
            raise _back("text_erased") from None
    raise _back("relabelled", n=message.id)


def register(app: web.Application) -> None:
    """Add the review list and its relabel form."""
    app.router.add_get("/admin/nlu/review", review_page)
    app.router.add_post("/admin/nlu/review/{id}", relabel)
