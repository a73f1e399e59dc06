"""The mobile task page linked from a worker's task card: the same actions as the chat commands.

GET /w/<number>?w=<worker id>&s=<signature> shows the ticket; POST the same URL with
action=accept|arrive|finish|hand_back (and note / reason / photo_url) acts on it. The signed
link is the worker's capability (handlers/task_links.py); everything shown is escaped.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.responses import error
from bot.runtime import RUNTIME, Runtime
from handlers import ticket_actions
from handlers.context import Services
from handlers.sla import COLOUR_WORDS, sla_colour
from handlers.task_links import verify
from handlers.ticket_actions import STEP_WORDS, ActionRefused
from handlers.ticket_notices import label_of, place_of
from storage.accounts import audit
from storage.base import row_id
from storage.community import Worker
from storage.privacy import mask_name, mask_phone, mask_text
from storage.residents import Resident
from storage.ticket_flow import accepted_by
from storage.tickets import Ticket, ticket_by_number

log = logging.getLogger(__name__)
STYLE = (
    "body{font:18px/1.6 sans-serif;margin:0 auto;max-width:32em;padding:1em}"
    "button{font-size:1em;padding:.7em;margin:.3em 0;width:100%}"
    "textarea,input{width:100%;font-size:1em;box-sizing:border-box}"
    ".msg{background:#eef6ee;padding:.5em}"
)
FORMS = (
    ("accept", "接单", ""),
    ("arrive", "到场", ""),
    (
        "finish",
        "完成",
        '<textarea name="note" placeholder="处理说明，如：已更换灯泡"></textarea>'
        '<input name="photo_url" placeholder="照片链接（可选）">',
    ),
    ("hand_back", "申请转派", '<textarea name="reason" placeholder="转派原因"></textarea>'),
)


async def _load(
    session: AsyncSession, request: web.Request, fields: dict[str, str]
) -> tuple[Worker, Ticket] | web.Response:
    """The worker and ticket of a signed link, or the error response to give."""
    runtime = request.app[RUNTIME]
    ticket = await ticket_by_number(session, request.match_info["number"])
    worker_id = fields.get("w", "")
    number = row_id(worker_id)
    worker = await session.get(Worker, number) if number else None
    if ticket is None or worker is None:
        return error(404, "not_found", "no such task")
    if not verify(runtime.services.link_key, worker.id, ticket.id, fields.get("s", "")):
        return error(403, "forbidden", "this link is not valid for this task")
    return worker, ticket


async def _page(
    runtime: Runtime,
    session: AsyncSession,
    worker: Worker,
    ticket: Ticket,
    fields: dict[str, str],
    message: str = "",
) -> web.Response:
    """Render the task page (all values escaped); an unmasked contact is audited."""
    e = html.escape
    reporter = await session.get(Resident, ticket.reporter_id)
    revealed = accepted_by(ticket, worker.id)
    name = (reporter.name if revealed else mask_name(reporter.name)) if reporter else "居民"
    phone = (reporter.phone if revealed else mask_phone(reporter.phone)) if reporter else ""
    place = (ticket.location or "未说明") if revealed else place_of(ticket)
    words = ticket.description if revealed else mask_text(ticket.description)
    if revealed:
        target = f"ticket:{ticket.number}"
        audit(session, f"worker:{worker.id}", "view_personal", target, "task page contact")
    colour = COLOUR_WORDS[sla_colour(ticket, runtime.clock())]
    hidden = f'<input type="hidden" name="w" value="{e(fields["w"])}">' + (
        f'<input type="hidden" name="s" value="{e(fields["s"])}">'
    )
    forms = "".join(
        f'<form method="post">{hidden}{extra}'
        f'<button name="action" value="{action}">{label}</button></form>'
        for action, label, extra in FORMS
    )
    body = (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>工单 {e(ticket.number or '')}</title><style>{STYLE}</style></head><body>"
        f"<h1>工单 {e(ticket.number or '')}【{e(label_of(runtime.services, ticket))}】</h1>"
        + (f'<p class="msg">{e(message)}</p>' if message else "")
        + f"<p>状态：{e(STEP_WORDS.get(ticket.status, ticket.status))} {colour}</p>"
        f"<p>地点：{e(place)}</p><p>内容：{e(words)}</p>"
        f"<p>报告人：{e(name or '居民')} {e(phone or '')}</p>{forms}</body></html>"
    )
    return web.Response(text=body, content_type="text/html", charset="utf-8")


async def show(request: web.Request) -> web.Response:
    """GET: the task page."""
    runtime = request.app[RUNTIME]
    fields = {k: request.query.get(k, "") for k in ("w", "s")}
    async with runtime.sessions() as session, session.begin():  # the audit entry is written
        loaded = await _load(session, request, fields)
        if isinstance(loaded, web.Response):
            return loaded
        return await _page(runtime, session, *loaded, fields)


async def act(request: web.Request) -> web.Response:
    """POST: run one action for the linked worker, then show the page with the outcome."""
    runtime = request.app[RUNTIME]
    form = await request.post()
    fields = {k: str(form.get(k, "")) for k in ("w", "s", "action", "note", "reason", "photo_url")}
    async with runtime.sessions() as session, session.begin():
        loaded = await _load(session, request, fields)
        if isinstance(loaded, web.Response):
            return loaded
        worker, ticket = loaded
        now, services = runtime.clock(), runtime.services
        try:
            message = await _perform(session, services, worker, ticket, now, fields)
        except ActionRefused as refused:
            message = str(refused)
        page = await _page(runtime, session, worker, ticket, fields, message)
    runtime.wake_outbox()
    return page


async def _perform(
    session: AsyncSession,
    services: Services,
    worker: Worker,
    ticket: Ticket,
    now: datetime,
    fields: dict[str, str],
) -> str:
    """Dispatch the form's action to the shared ticket actions."""
    action = fields["action"]
    if action == "accept":  # the page itself shows (and audits) the contact
        return await ticket_actions.accept(session, services, worker, ticket, now, card=False)
    if action == "arrive":
        return await ticket_actions.arrive(session, services, worker, ticket, now)
    if action == "finish":
        photo = fields["photo_url"].strip()
        if photo and not photo.startswith(("http://", "https://")):
            raise ActionRefused("照片链接需要以 http:// 或 https:// 开头。")
        return await ticket_actions.finish(
            session, services, worker, ticket, now, fields["note"], photo or None
        )
    if action == "hand_back":
        reason = fields["reason"]
        return await ticket_actions.hand_back(session, services, worker, ticket, now, reason)
    raise ActionRefused("未知的操作。")


def register(app: web.Application) -> None:
    """Add the task page routes."""
    app.router.add_get("/w/{number}", show)
    app.router.add_post("/w/{number}", act)
