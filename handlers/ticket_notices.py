"""What a ticket tells people: the task card for the worker, notices to unit, leader, reporters."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Services
from handlers.task_links import task_url
from storage.cards import TaskCard
from storage.community import PartnerUnit, Worker, workers_with_role
from storage.privacy import mask_name, mask_phone, mask_text
from storage.push import push_to_resident, push_to_unit, push_to_worker
from storage.residents import Resident
from storage.ticket_flow import Filed, reporters_of
from storage.tickets import Ticket

COMMANDS_HELP = (
    "回复“接单 {n}”接单；到现场回复“到场 {n}”；办完回复“完成 {n} 处理说明”；"
    "需要换人回复“转派 {n} 原因”。发送“我的任务”查看全部待办。"
)
WORKING_HELP = "到现场回复“到场 {n}”；办完回复“完成 {n} 处理说明”；需要换人回复“转派 {n} 原因”。"


def label_of(services: Services, ticket: Ticket) -> str:
    """The category's word for residents (路灯, 燃气安全 …)."""
    return services.category_labels.get(ticket.category, "问题")


def place_of(ticket: Ticket) -> str:
    """The ticket's place as the resident gave it, numbers masked (for anyone but staff)."""
    return mask_text(ticket.location) if ticket.location else "未说明"


def task_card(
    services: Services,
    ticket: Ticket,
    reporter: Resident,
    revealed: bool,
    worker_id: int | None = None,
) -> str:
    """The task pushed to a worker: number, category, place, contact (masked until accepted).

    Masked, the resident's words are masked too (mask_text); revealed is only for the worker
    who accepted it, and the caller audits that view.
    With a worker id (and a link key configured) it ends with that worker's task-page link.
    """
    rule = services.categories.get(ticket.category)
    urgent = "【紧急】" if ticket.urgent else ""
    if revealed:
        contact = f"{reporter.name or '居民'} {reporter.phone or '未留电话'}"
        head, steps = "【任务】", WORKING_HELP.format(n=ticket.number)
        place, words = ticket.location or "未说明", ticket.description
    else:
        contact = f"{mask_name(reporter.name)} {mask_phone(reporter.phone)}（接单后可见）"
        limit = f"请在 {rule.accept_minutes} 分钟内接单。" if rule else ""
        head, steps = "【新任务】", limit + COMMANDS_HELP.format(n=ticket.number)
        place, words = place_of(ticket), mask_text(ticket.description)
    card = (
        f"{urgent}{head}工单 {ticket.number}【{label_of(services, ticket)}】\n"
        f"地点：{place}\n"
        f"内容：{words[:200]}\n"
        f"报告人：{contact}\n{steps}"
    )
    link = task_url(services, worker_id, ticket) if worker_id else None
    return f"{card}\n手机办理：{link}" if link else card


def task_card_data(
    services: Services, ticket: Ticket, reporter: Resident, worker_id: int
) -> TaskCard | None:
    """The new task as a card with a button to the worker's task page (None without a link).

    The contact is masked as in the text card; connectors that show cards send this instead.
    """
    link = task_url(services, worker_id, ticket)
    if link is None:
        return None
    rule = services.categories.get(ticket.category)
    urgent = "【紧急】" if ticket.urgent else ""
    lines = [
        f"地点：{place_of(ticket)}",
        f"内容：{mask_text(ticket.description)[:80]}",
        f"报告人：{mask_name(reporter.name)} {mask_phone(reporter.phone)}（接单后可见）",
    ]
    if rule:
        lines.append(f"请在 {rule.accept_minutes} 分钟内接单")
    return TaskCard(
        title=f"{urgent}【新任务】工单 {ticket.number}【{label_of(services, ticket)}】",
        description="\n".join(lines),
        url=link,
        button="详情",
    )


async def announce(
    session: AsyncSession, services: Services, filed: Filed, reporter: Resident
) -> None:
    """Push a new ticket to whoever holds it, its partner unit, or the leader to dispatch it."""
    ticket = filed.ticket
    if filed.assignee is not None:
        card = task_card_data(services, ticket, reporter, filed.assignee.id)
        await push_to_worker(
            session,
            filed.assignee,
            task_card(services, ticket, reporter, False, filed.assignee.id),
            "task_pushed",
            card.as_json() if card else None,
        )
    else:
        for leader in await workers_with_role(session, "leader"):
            await push_to_worker(
                session,
                leader,
                f"工单 {ticket.number}【{label_of(services, ticket)}】"
                f"{mask_text(ticket.location or '')}"
                f" 找不到负责的网格员，请派单：回复“派单 {ticket.number} 姓名”。",
                "task_unrouted",
            )
    if ticket.partner_unit_id:
        unit = await session.get(PartnerUnit, ticket.partner_unit_id)
        if unit is not None:
            urgent = "【紧急】" if ticket.urgent else ""
            await push_to_unit(
                session,
                unit,
                f"{urgent}东关社区转来工单 {ticket.number}【{label_of(services, ticket)}】"
                f"地点：{place_of(ticket)}；内容：{mask_text(ticket.description)[:120]}",
                "unit_notified",
            )


async def tell_reporters(session: AsyncSession, ticket: Ticket, text: str, action: str) -> int:
    """Send an update to the reporter and every linked reporter; return how many were told."""
    residents = await reporters_of(session, ticket)
    for resident in residents:
        await push_to_resident(session, resident, text, action)
    return len(residents)


async def tell_worker(session: AsyncSession, worker_id: int | None, text: str, action: str) -> None:
    """Push a notice to a worker by id (nothing when nobody holds the ticket)."""
    worker = await session.get(Worker, worker_id) if worker_id else None
    if worker is not None:
        await push_to_worker(session, worker, text, action)
