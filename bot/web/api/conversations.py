"""Handed-off conversations over the API: list them, reply to the resident, release them.

A staff reply goes out through the outbox on the resident's own platform, like any bot
reply; release gives the conversation back to the bot and tells the resident so. The
transcript itself is GET /api/conversations/{id}/messages (bot/api/messages.py).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.runtime import RUNTIME
from bot.web.api.core import (
    Param,
    choice_param,
    endpoint,
    json_body,
    page,
    page_args,
    path_id,
    principal,
)
from handlers.handoff import conversation_number, release_held, reply_as_staff
from storage.privacy import mask_name
from storage.residents import Conversation, ConversationFilter, Resident, conversation_rows

HANDOFF_ROLES = ("admin", "staff")
MAX_TEXT = 2000
ITEM = {
    "id": "integer",
    "number": "string",
    "platform": "string",
    "user": "string",
    "handed_off": "boolean",
    "last_message_at": "string?",
}


def _item(conversation: Conversation, resident: Resident | None) -> dict[str, Any]:
    last = conversation.last_message_at
    return {
        "id": conversation.id,
        "number": conversation_number(conversation.id),
        "platform": conversation.platform,
        "user": mask_name(resident.name if resident else None),
        "handed_off": conversation.handed_off,
        "last_message_at": last.isoformat() if last else None,
    }


@endpoint(
    "GET",
    "/api/conversations",
    "Conversations, newest first; handed_off=true: those staff hold",
    roles=HANDOFF_ROLES,
    item=ITEM,
    paged=True,
    params=(Param("handed_off", "only conversations handed to staff (or not)", "boolean"),),
)
async def list_conversations(request: web.Request) -> web.Response:
    """GET /api/conversations?handed_off=true."""
    wanted = conversation_filter(request)
    async with request.app[RUNTIME].sessions() as session:
        rows = await conversation_rows(session, wanted)
    return page([_item(conv, resident) for conv, resident in rows], wanted.limit)


def conversation_filter(request: web.Request) -> ConversationFilter:
    """The conversation list's filters from the query string (Invalid naming a bad one)."""
    cursor, limit = page_args(request)
    flag = choice_param(request, "handed_off", ("true", "false"))
    return ConversationFilter(
        handed_off=None if flag is None else flag == "true", cursor=cursor, limit=limit
    )


@endpoint(
    "POST",
    "/api/conversations/{id}/reply",
    "Send staff words to a handed-off resident",
    roles=HANDOFF_ROLES,
    body={"text": "string"},
    item={"ok": "boolean", "message_id": "integer"},
    errors=(409,),
)
async def reply(request: web.Request) -> web.Response:
    """POST /api/conversations/{id}/reply {"text": "..."}: 201 once queued for delivery."""
    text = str((await json_body(request, ["text"]))["text"]).strip()
    if len(text) > MAX_TEXT:
        raise web.HTTPBadRequest(text=f"text is longer than {MAX_TEXT} characters")
    runtime, who = request.app[RUNTIME], principal(request)
    async with runtime.sessions() as session, session.begin():
        number = path_id(request, "conversation")
        message = await reply_as_staff(session, number, text, who.name)
        message_id = message.id
    runtime.wake_outbox()
    return web.json_response({"ok": True, "message_id": message_id}, status=201)


@endpoint(
    "POST",
    "/api/conversations/{id}/release",
    "Give a handed-off conversation back to the bot",
    roles=HANDOFF_ROLES,
    item=ITEM,
    errors=(409,),
)
async def release_conversation(request: web.Request) -> web.Response:
    """POST /api/conversations/{id}/release: the bot answers this resident again."""
    runtime, who = request.app[RUNTIME], principal(request)
    async with runtime.sessions() as session, session.begin():
        conversation = await release_held(session, path_id(request, "conversation"), who.name)
        item = _item(conversation, await session.get(Resident, conversation.resident_id))
    runtime.wake_outbox()
    return web.json_response({"ok": True, "conversation": item})
