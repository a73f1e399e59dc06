"""What a worker can do to a ticket, shared by the chat commands and the mobile task page.

Each action checks the worker may act, moves the ticket (an event), tells the reporters, and
returns the sentence for the worker. A worker who may not act raises NotAllowed, a step that
does not fit Conflict (both handlers.errors, with a polite reason both surfaces show as is).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Services
from handlers.errors import Conflict, DomainError, NotAllowed
from handlers.ticket_notices import label_of, task_card, task_card_data, tell_reporters
from storage.accounts import audit
from storage.base import existing
from storage.community import Worker, workers_with_role
from storage.push import push_to_worker
from storage.residents import Resident
from storage.ticket_flow import TransitionError, move
from storage.tickets import Ticket

MANAGERS = ("leader", "staff")
STEP_WORDS = {
    "submitted": "待派单",
    "assigned": "待接单",
    "accepted": "已接单",
    "in_progress": "办理中",
    "resolved": "已完成",
    "closed": "已办结",
    "cancelled": "已撤销",
    "duplicate": "已合并",
}
_URL = re.compile(r"https?://\S+")


ActionRefused = DomainError  # what the worker surfaces catch: any refusal, shown as is


def may_act(worker: Worker, ticket: Ticket) -> bool:
    """The holder, the grid's own worker for an unheld ticket, or a leader/staff member."""
    if worker.role in MANAGERS or ticket.assignee_id == worker.id:
        return True
    unheld = ticket.assignee_id is None and ticket.grid_id is not None
    return unheld and ticket.grid_id == worker.grid_id


def check(worker: Worker, ticket: Ticket) -> None:
    """Refuse politely when the worker may not act on the ticket."""
    if not may_act(worker, ticket):
        raise NotAllowed(f"工单 {ticket.number} 不是您负责的任务，不能办理。如有疑问请联系社区。")


async def _move(
    session: AsyncSession, worker: Worker, ticket: Ticket, to: str, now: datetime, **kw: object
) -> None:
    try:
        await move(session, ticket, to, f"worker:{worker.id}", now, **kw)  # type: ignore[arg-type]
    except TransitionError as exc:
        step = STEP_WORDS.get(ticket.status, ticket.status)
        raise Conflict(f"工单 {ticket.number} 目前“{step}”，不能这样办理。") from exc


async def accept(
    session: AsyncSession,
    services: Services,
    worker: Worker,
    ticket: Ticket,
    now: datetime,
    *,
    card: bool = True,
) -> str:
    """Accept a task: it becomes the worker's; the reporter's contact is revealed.

    The answer carries the unmasked task card (audited) unless card=False: the task page
    shows, and audits, the contact itself.
    """
    check(worker, ticket)
    if ticket.status == "submitted" or (
        ticket.status == "assigned" and ticket.assignee_id != worker.id
    ):  # a leader accepting for someone else takes the task: only the acceptor sees contacts
        await _move(session, worker, ticket, "assigned", now, assignee_id=worker.id)
    await _move(session, worker, ticket, "accepted", now)
    reporter = await existing(session, Resident, ticket.reporter_id)
    label = label_of(services, ticket)
    await tell_reporters(
        session,
        ticket,
        f"您的工单 {ticket.number}【{label}】已由{worker.name}接单，会尽快处理。",
        "ticket_accepted",
    )
    if not card:
        return "已接单，报告人联系方式见下方。"
    audit(
        session,
        f"worker:{worker.id}",
        "view_personal",
        f"ticket:{ticket.number}",
        "reporter contact on the accepted-task card",
    )
    return f"已接单。\n{task_card(services, ticket, reporter, True)}"


async def arrive(
    session: AsyncSession, services: Services, worker: Worker, ticket: Ticket, now: datetime
) -> str:
    """On site: the ticket is in progress; reporters told."""
    check(worker, ticket)
    await _move(session, worker, ticket, "in_progress", now, note="到场处理")
    await tell_reporters(
        session, ticket, f"工单 {ticket.number}：工作人员已到现场处理。", "ticket_in_progress"
    )
    return f"已记录到场，工单 {ticket.number} 办理中。办完请回复“完成 {ticket.number} 处理说明”。"


async def finish(
    session: AsyncSession,
    services: Services,
    worker: Worker,
    ticket: Ticket,
    now: datetime,
    note: str,
    photo_url: str | None = None,
) -> str:
    """Resolved with a note (and a photo if given); reporters asked to rate."""
    check(worker, ticket)
    if ticket.status not in ("accepted", "in_progress"):
        step = STEP_WORDS.get(ticket.status, ticket.status)
        raise Conflict(f"工单 {ticket.number} 目前“{step}”，请先接单再办结。")
    note = note.strip() or "已处理"
    if photo_url is None and (found := _URL.search(note)):
        photo_url = found.group(0)
    await _move(session, worker, ticket, "resolved", now, note=note, photo_url=photo_url)
    await tell_reporters(
        session,
        ticket,
        f"您反映的【{label_of(services, ticket)}】问题（工单 {ticket.number}）已处理："
        f"{note[:100]}\n请为这次服务打分：回复 1–5（5 最满意），或回复“满意”“不满意”。",
        "ticket_resolved",
    )
    return f"工单 {ticket.number} 已标记完成，谢谢！"


async def hand_back(
    session: AsyncSession,
    services: Services,
    worker: Worker,
    ticket: Ticket,
    now: datetime,
    reason: str,
) -> str:
    """Give a task back with a reason; the leader is asked to dispatch it again."""
    check(worker, ticket)
    reason = reason.strip() or "未说明原因"
    await _move(session, worker, ticket, "submitted", now, note=f"转派：{reason}", assignee_id=None)
    for leader in await workers_with_role(session, "leader"):
        await push_to_worker(
            session,
            leader,
            f"{worker.name}申请转派工单 {ticket.number}【{label_of(services, ticket)}】，"
            f"原因：{reason}。请回复“派单 {ticket.number} 姓名”重新派单。",
            "ticket_handed_back",
        )
    return f"工单 {ticket.number} 已申请转派，社区会重新派单。"


async def dispatch_to(
    session: AsyncSession,
    services: Services,
    manager: Worker,
    ticket: Ticket,
    now: datetime,
    worker: Worker,
) -> str:
    """Leader or staff give a ticket to a named worker, who gets the task card."""
    if manager.role not in MANAGERS:
        raise NotAllowed("只有社区书记或工作人员可以派单。")
    return await assign(session, services, ticket, now, worker, f"worker:{manager.id}")


async def assign(
    session: AsyncSession,
    services: Services,
    ticket: Ticket,
    now: datetime,
    worker: Worker,
    actor: str,
) -> str:
    """Give a ticket to a worker (by someone allowed to dispatch) and push them the task card."""
    try:
        await move(
            session,
            ticket,
            "assigned",
            actor,
            now,
            note=f"派给{worker.name}",
            assignee_id=worker.id,
        )
    except TransitionError as exc:
        step = STEP_WORDS.get(ticket.status, ticket.status)
        raise Conflict(f"工单 {ticket.number} 目前“{step}”，不能派单。") from exc
    reporter = await existing(session, Resident, ticket.reporter_id)
    card = task_card_data(services, ticket, reporter, worker.id)
    await push_to_worker(
        session,
        worker,
        task_card(services, ticket, reporter, False, worker.id),
        "task_pushed",
        card.as_json() if card else None,
    )
    return f"工单 {ticket.number} 已派给{worker.name}。"
