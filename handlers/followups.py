"""The item just made (rule 6): what the resident says next about it is added to it, answered.

Other items (a booking, an order, a wish, a sign-up) are taken by their service's
`item:<kind>` handler first (handlers/router.py); this module is about tickets.

After a report is filed, the resident's next messages — a detail ("是二楼拐角那盏"), news
("人都出来了"), a photo, "啥时候能修好", "不用了 物业修好了" — belong to that ticket, not to
the fallback menu. The ticket is the one this conversation made last (kept in the dialogue
state), or else the resident's newest open ticket of the last ITEM_HOURS, so the item is
found after the dialogue state has expired too.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from handlers.context import Context
from handlers.engine.answers import AnswerKind, is_thanks_only, is_withdrawal, read_answer
from handlers.engine.details import asks_when
from handlers.engine.state import Dialogue
from handlers.ticket_notices import tell_worker
from nlu.places import names_a_place
from nlu.understand import place_of
from storage.privacy import mask_text
from storage.ticket_flow import TransitionError, move, record_event, similar_places
from storage.tickets import OPEN_STATUSES, Ticket, ticket_by_number

ITEM_HOURS = 24  # how long the newest ticket stays "the one we talked about"
SURE = 0.7  # a message this sure of another intent is a new request, not about the item
ABOUT_IT = frozenset({"affirm", "deny", "out_of_scope", "greet", "nlu_fallback"})
WITHDRAWABLE = frozenset({"submitted", "assigned"})
NOTE_KIND = "resident_note"


async def current_ticket(ctx: Context) -> Ticket | None:
    """The open ticket this conversation is about: the one just made, or the newest recent one."""
    item = Dialogue.load(ctx.state).item
    if item is not None and item.kind == "ticket":
        ticket = await ticket_by_number(ctx.session, item.number)
        if ticket is not None and ticket.reporter_id == ctx.resident.id:
            return ticket
    since = ctx.now - timedelta(hours=ITEM_HOURS)
    stmt = (
        select(Ticket)
        .where(
            Ticket.reporter_id == ctx.resident.id,
            Ticket.created_at >= since,
            Ticket.status.in_((*OPEN_STATUSES, "resolved")),
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )
    return (await ctx.session.scalars(stmt)).first()


def _same_kind(ctx: Context, ticket: Ticket) -> bool:
    """The message's intent files under the ticket's own category (more about the same problem)."""
    intent = ctx.intent or ""
    category = ctx.services.report_intents.get(intent)
    return category == ticket.category or (
        intent == "request_mediation" and ticket.category == "mediation"
    )


URGENT_HOURS = 2  # after an urgent ticket, most of what the resident says is about it
VERY_SURE = 0.85  # ...but a request this sure of itself (a booking, a question) is its own
CHATTER = ABOUT_IT | {"thank", "check_status", "complain"}  # "怎么还没人来" is about it


def _about_it(ctx: Context, ticket: Ticket) -> bool:
    """True when the message reads as more about the ticket rather than a new request."""
    if ctx.parse is None:
        return ctx.command is None
    recent = ticket.created_at >= ctx.now - timedelta(hours=URGENT_HOURS)
    if ticket.urgent and recent:
        intent = ctx.parse.intent
        other_report = intent.startswith("report_") and not _same_kind(ctx, ticket)
        sure = ctx.parse.confidence >= SURE
        if sure and (other_report or intent == "human_handoff"):
            return False
        own_request = intent not in CHATTER and not _same_kind(ctx, ticket)
        return not (own_request and ctx.parse.confidence >= VERY_SURE)
    place = place_of(ctx.text, ctx.parse)
    if (
        place is not None
        and names_a_place(place.text)
        and not similar_places(place.text, ticket.location)
    ):
        if ctx.parse.intent.startswith("report_") and ctx.parse.confidence >= SURE:
            return False  # the same kind of problem somewhere else: a new report
    if _same_kind(ctx, ticket):
        return True
    return ctx.parse.confidence < SURE or ctx.parse.intent in ABOUT_IT


STAY_SAFE = "请待在室外安全的地方，抢修人员马上到。"  # told again after an urgent ticket


def _says_nothing_more(text: str) -> bool:
    """A bare yes, ok or number (a confirmation sent again): no news about the ticket."""
    if text.isdigit() and len(text) <= 2:
        return True
    answer = read_answer(text)
    return answer.kind is AnswerKind.YES and not answer.rest


def _when_line(ctx: Context, ticket: Ticket) -> str:
    rule = ctx.services.categories.get(ticket.category)
    within = rule.resolve_within() if rule else "几天"
    holder = "社区工作人员" if rule is not None and rule.route == "staff" else "网格员"
    steps = {
        "submitted": "已登记，正在安排人",
        "assigned": f"已派给{holder}",
        "accepted": f"{holder}已接单",
        "in_progress": "正在处理",
        "resolved": "已处理完成",
    }
    step = steps.get(ticket.status, "正在处理")
    if ticket.status == "resolved":
        return f"工单 {ticket.number} {step}。如果还没好，直接告诉我。"
    return f"工单 {ticket.number} {step}，一般{within}内处理好，有进展第一时间告诉您。"


async def take_follow_up(ctx: Context) -> bool:
    """Answer a message about the ticket just made; False when it is something else."""
    if ctx.worker is not None:
        return False
    ticket = await current_ticket(ctx)
    if ticket is None or ticket.status not in (*OPEN_STATUSES, "resolved"):
        return False
    text = ctx.text.strip()
    if is_thanks_only(text):
        return False
    if _says_nothing_more(text):  # "1" / "好的" / "嗯": nothing to add to it, nothing to push
        ctx.action = f"item_ok:{ticket.number}"
        ctx.reply(_when_line(ctx, ticket) + (STAY_SAFE if ticket.urgent else ""))
        return True
    if (ctx.intent == "check_status" and not any(ch.isdigit() for ch in text)) or asks_when(text):
        # the resident chasing it is news for whoever handles it: kept in its history
        await record_event(
            ctx.session, ticket, NOTE_KIND, f"resident:{ctx.resident.id}", note=text[:1000]
        )
        ctx.action = f"item_status:{ticket.number}"
        ctx.reply(_when_line(ctx, ticket))
        return True
    if is_withdrawal(text) and ticket.status in WITHDRAWABLE:
        try:
            await move(
                ctx.session,
                ticket,
                "cancelled",
                f"resident:{ctx.resident.id}",
                ctx.now,
                note=f"居民撤回：{mask_text(text)[:200]}",
            )
        except TransitionError:
            return False
        await tell_worker(
            ctx.session,
            ticket.assignee_id,
            f"工单 {ticket.number} 居民已撤回，不用再去了。",
            "ticket_withdrawn",
        )
        ctx.action = f"ticket_withdrawn:{ticket.number}"
        ctx.reply(f"好的，工单 {ticket.number} 已撤回。还有需要随时告诉我。")
        return True
    if not _about_it(ctx, ticket):
        return False
    await record_event(
        ctx.session, ticket, NOTE_KIND, f"resident:{ctx.resident.id}", note=text[:1000]
    )
    told = ""
    if ticket.assignee_id and (ticket.urgent or ticket.status != "submitted"):
        await tell_worker(
            ctx.session,
            ticket.assignee_id,
            f"工单 {ticket.number} 居民补充：{mask_text(text)[:200]}",
            "ticket_note_pushed",
        )
        told = "，已转告处理人员"
    ctx.action = f"ticket_note:{ticket.number}"
    ctx.reply(f"收到，已补充到工单 {ticket.number}{told}。" + (STAY_SAFE if ticket.urgent else ""))
    return True
