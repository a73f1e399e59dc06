"""The handoff desk: conversations waiting for a person, replying as staff, releasing them."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.runtime import RUNTIME
from bot.web.api.core import Principal
from bot.web.console.auth import check_csrf, page
from bot.web.console.notices import back_with
from bot.web.console.views import base_context
from handlers.handoff import conversation_number, release, staff_reply
from storage.accounts import audit
from storage.base import row_id
from storage.privacy import mask_name
from storage.residents import Conversation, Resident

MANAGERS = ("admin", "staff")


@page(*MANAGERS)
async def desk(request: web.Request, who: Principal) -> web.Response:
    """GET /admin/handoff: every conversation handed to staff, oldest wait first."""
    async with request.app[RUNTIME].sessions() as session:
        rows = (
            await session.execute(
                select(Conversation, Resident.name)
                .join(Resident, Resident.id == Conversation.resident_id)
                .where(Conversation.handed_off.is_(True))
                .order_by(Conversation.last_message_at)
                .limit(200)
            )
        ).all()
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


async def _held(request: web.Request, session: AsyncSession) -> Conversation:
    raw = request.match_info["id"]
    number = row_id(raw)
    conversation = await session.get(Conversation, number) if number else None
    if conversation is None:
        raise web.HTTPNotFound(text="no such conversation")
    return conversation


@page(*MANAGERS)
async def answer(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/handoff/{id}/reply: the text goes to the resident on their platform."""
    form = await check_csrf(request)
    text = str(form.get("text", "")).strip()[:2000]
    runtime = request.app[RUNTIME]
    code = "reply_empty"
    if text:
        async with runtime.sessions() as session, session.begin():
            conversation = await _held(request, session)
            staff_reply(session, conversation, text)
            audit(session, who.name, "staff_reply", f"conversation:{conversation.id}")
        runtime.wake_outbox()
        code = "reply_sent"
    raise back_with("/admin/handoff", code)


@page(*MANAGERS)
async def give_back(request: web.Request, who: Principal) -> web.Response:
    """POST /admin/handoff/{id}/release: the bot answers this resident again."""
    await check_csrf(request)
    runtime = request.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        conversation = await _held(request, session)
        done = await release(session, conversation, who.name)
        if done:
            audit(session, who.name, "release", f"conversation:{conversation.id}")
    runtime.wake_outbox()
    raise back_with("/admin/handoff", "released" if done else "not_handed_off")


def register(app: web.Application) -> None:
    """Add the handoff desk's routes."""
    app.router.add_get("/admin/handoff", desk)
    app.router.add_post("/admin/handoff/{id}/reply", answer)
    app.router.add_post("/admin/handoff/{id}/release", give_back)
