"""Filing an application: a service ticket for staff with the details, and what happens next."""

from __future__ import annotations

from typing import Any

from handlers.context import Context
from handlers.ticket_notices import announce
from storage.ticket_flow import Filed, open_ticket


async def file_service_ticket(
    ctx: Context,
    category: str,
    description: str,
    details: dict[str, Any],
    location: str | None = None,
) -> Filed:
    """Open a service ticket for staff with the collected details and push its task card."""
    filed = await open_ticket(
        ctx.session,
        ctx.services,
        category=category,
        description=description,
        reporter=ctx.resident,
        now=ctx.now,
        actor=f"resident:{ctx.resident.id}",
        location=location,
        conversation_id=ctx.conversation.id,
        source_message_id=ctx.message_id,
        details=details,
    )
    if not filed.merged:
        await announce(ctx.session, ctx.services, filed, ctx.resident)
    return filed
