"""The handoff desk: conversations waiting for a person, replying as staff, releasing them."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from bot.runtime import RUNTIME
from bot.web.api.core import Principal
from bot.web.console.auth import check_csrf, page
from bot.web.console.notices import back_with
from bot.web.console.views import base_context
from handlers.errors import Conflict
from handlers.handoff import conversation_number, release_held, reply_as_staff
from storage.base import row_id
from storage.privacy import mask_name
from storage.residents import handoff_queue

MANAGERS = ("admin", "staff")


@page(*MANAGERS)
async def desk(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/handoff: every conversation handed to staff, oldest wait first."""
    async with request.app[RUNTIME].sessions() as session:
        rows = await handoff_queue(session)
    items = [
        {
            "id": c.id,
            "number": conversation_number(c.id),
            "user": mask_name(name),
            "platform": c.platform,
            "last": c.last_message_at.isoformat()[:16].replace("T", " ")
            if c.last_message_at
            else "",
        }
        for c, name in rows
    ]
    context = base_context(request, who, items=items)
    return aiohttp_jinja2.render_template("handoff.html", request, context)


@page(*MANAGERS)
async def answer(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/handoff/{id}/reply: the text goes to the resident on their platform."""
    form = await check_csrf(request)
    text = str(form.get("text", "")).strip()[:2000]
    runtime = request.app[RUNTIME]
    code = "reply_empty"
    if text:
        async with runtime.sessions() as session, session.begin():
            number = row_id(request.match_info["id"])
            await reply_as_staff(session, number, text, who.name, held_only=False)
        runtime.wake_outbox()
        code = "reply_sent"
    raise back_with("/admin/handoff", code)


@page(*MANAGERS)
async def give_back(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/handoff/{id}/release: the bot answers this resident again."""
    await check_csrf(request)
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        try:
            await release_held(session, row_id(request.match_info["id"]), who.name)
            done = True
        except Conflict:
            done = False
    runtime.wake_outbox()
    raise back_with("/admin/handoff", "released" if done else "not_handed_off")


def register(app: web.Application) -> None:
    """Add the handoff desk's routes."""
    app.router.add_get("/admin/handoff", desk)
    app.router.add_post("/admin/handoff/{id}/reply", answer)
    app.router.add_post("/admin/handoff/{id}/release", give_back)
