"""Silence in the middle of a request (rule 5): one follow-up, then what was said reaches staff.

The router keeps each unfinished request in SQL (storage/pending.py) after every turn. A
request quiet for `dialogue.abandon_minutes` gets one follow-up message; quiet twice as
long, a report with its problem is filed as a ticket (the resident is told how to
withdraw it) and any other request is passed to staff as a note. When the resident comes
back after that, the engine drops the old question and the ticket is the current item.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context, Services
from handlers.engine.forms import Form
from handlers.engine.runner import Engine
from handlers.engine.state import CurrentItem, Dialogue, iso
from handlers.engine.turn import Turn
from handlers.jobs import periodic
from handlers.ticket_notices import announce
from storage.community import workers_with_role
from storage.pending import (
    FILE,
    NOTE,
    PendingRequest,
    Unfinished,
    claim,
    drop_pending,
    keep_pending,
    pending_of,
    quiet_since,
)
from storage.privacy import mask_text
from storage.push import push_to_resident, push_to_worker
from storage.residents import Resident
from storage.ticket_flow import open_ticket


def _what(row: PendingRequest) -> str:
    return row.title or "事"


async def track(ctx: Context, engine: Engine, was_in_request: bool) -> None:
    """After a turn: keep the unfinished request in SQL, or drop it when it ended."""
    dialogue = Dialogue.load(ctx.state)
    flow = dialogue.flow
    if flow is None or flow.form not in engine.forms:
        if was_in_request:
            await drop_pending(ctx.session, ctx.conversation.id)
        return
    form: Form = engine.forms[flow.form]
    verdict = form.silence(Turn(ctx, dialogue, flow)) if form.silence else None
    request = Unfinished(
        conversation_id=ctx.conversation.id,
        resident_id=ctx.resident.id,
        form=flow.form,
        on_silence=FILE if verdict is not None else NOTE,
        category=verdict.category if verdict else None,
        location=verdict.location if verdict else None,
        said=" ".join(flow.said)[:2000],
        title=form.title,
    )
    await keep_pending(ctx.session, request, ctx.now)


async def take_back(ctx: Context) -> None:
    """A resident back after the silence job closed their request: drop its old question."""
    row = await pending_of(ctx.session, ctx.conversation.id)
    if row is None or row.closed_at is None:
        return
    dialogue = Dialogue.load(ctx.state)
    dialogue.flow = None
    if row.ticket_number:
        dialogue.item = CurrentItem("ticket", row.ticket_number, iso(ctx.now), row.form)
    dialogue.store(ctx.state)
    await drop_pending(ctx.session, ctx.conversation.id)


async def _file(
    session: AsyncSession, services: Services, row: PendingRequest, now: datetime
) -> str:
    resident = await session.get(Resident, row.resident_id)
    if resident is None:
        return ""
    filed = await open_ticket(
        session,
        services,
        category=row.category or "other",
        location=row.location,
        description=f"（居民未说完，系统代为登记）{row.said}"[:1000],
        reporter=resident,
        now=now,
        actor="system:silence",
        conversation_id=row.conversation_id,
        source_message_id=None,
    )
    if not filed.merged:
        await announce(session, services, filed, resident)
    label = services.category_labels.get(row.category or "", "问题")
    number = str(filed.ticket.number)
    await push_to_resident(
        session,
        resident,
        f"您刚才说的【{label}】已先为您登记，工单号 {number}。\n"
        f"不需要的话回复“撤回”；想补充直接告诉我。",
        f"silence_filed:{number}",
    )
    return number


async def _note(session: AsyncSession, row: PendingRequest) -> None:
    resident = await session.get(Resident, row.resident_id)
    what = _what(row)
    for staff in await workers_with_role(session, "staff"):
        await push_to_worker(
            session,
            staff,
            f"【未办完】居民在{what}时中途没有回复，说过：“{mask_text(row.said)[:300]}”。请跟进。",
            f"silence_note:{row.form}",
        )
    if resident is not None:
        await push_to_resident(
            session,
            resident,
            "您刚才的事还没办完，我已转告社区工作人员，他们会联系您。\n想接着办直接告诉我。",
            "silence_noted",
        )


@periodic(60)
async def follow_up_silence(session: AsyncSession, services: Services, now: datetime) -> int:
    """Follow up requests left in the middle once; later file them or tell staff."""
    quiet = timedelta(minutes=services.abandon_minutes)
    done = 0
    for row in await quiet_since(session, now - quiet):
        if now - row.updated_at >= 2 * quiet:
            if not await claim(session, row, "closed_at", now):
                continue
            if row.on_silence == FILE:
                number = await _file(session, services, row, now)
                row.ticket_number = number or None
            else:
                await _note(session, row)
            done += 1
        elif row.followed_up_at is None:
            if not await claim(session, row, "followed_up_at", now):
                continue
            resident = await session.get(Resident, row.resident_id)
            if resident is not None:
                await push_to_resident(
                    session,
                    resident,
                    f"您刚才的{_what(row)}还没办完，直接回复就能接着办；不需要了回复“不用了”。",
                    "silence_follow_up",
                )
            done += 1
    return done
