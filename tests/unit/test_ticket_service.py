"""The staff ticket actions' domain errors, and their one mapping to HTTP (no server)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from bot.responses import domain_error
from handlers import nlu_review, ticket_service
from handlers.errors import Conflict, Invalid, NotAllowed, NotFound
from handlers.handoff import release_held, reply_as_staff
from storage.base import utcnow
from storage.community import Worker, match_grid
from storage.db import create_engine, session_factory
from storage.residents import get_or_create_conversation
from storage.tickets import create_ticket


@dataclass(frozen=True)
class Staff:
    """A web caller, as the API's Principal is."""

    name: str
    role: str
    grid_id: int | None = None


STAFF = Staff("staff-li", "staff")


async def _ticket(session, grid_id, status="submitted"):
    conv = await get_or_create_conversation(session, "generic", "svc-c", "svc-u")
    ticket = await create_ticket(
        session,
        category="road",
        location="东关北街",
        description="井盖没了",
        reporter_id=conv.resident_id,
        grid_id=grid_id,
        assignee_id=None,
        conversation_id=conv.id,
        source_message_id=None,
        actor="test",
    )
    ticket.status = status
    await session.flush()
    return ticket


async def test_ticket_actions_raise_one_set_of_domain_errors(db_url):
    engine = create_engine(db_url)
    async with session_factory(engine)() as s, s.begin():
        grid = await match_grid(s, "幸福里小区5号楼门口")
        assert grid is not None
        ticket = await _ticket(s, grid.id)
        with pytest.raises(NotFound):
            await ticket_service.visible_ticket(s, STAFF, "999999")
        other_grid = Staff("gw", "grid_worker", grid_id=grid.id + 1000)
        with pytest.raises(NotFound):  # another grid's ticket does not exist for a worker
            await ticket_service.visible_ticket(s, other_grid, ticket.number)
        with pytest.raises(NotFound):  # nor any ticket for a worker without a grid
            await ticket_service.visible_ticket(s, Staff("gw", "grid_worker"), ticket.number)
        own = Staff("gw", "grid_worker", grid_id=grid.id)
        assert (await ticket_service.visible_ticket(s, own, ticket.number)).id == ticket.id
        with pytest.raises(Invalid) as bad:  # before anything needs the services
            await ticket_service.dispatch(s, None, ticket, "无此人", utcnow(), STAFF.name)
        assert bad.value.field == "worker" and "无此人" in bad.value.reason
        outsider = Worker(name="svc-outsider", role="grid_worker", grid_id=None)
        s.add(outsider)
        await s.flush()
        with pytest.raises(NotAllowed):  # a chatting worker who may not dispatch this ticket
            await ticket_service.dispatch(s, None, ticket, outsider.name, utcnow(), outsider)
        with pytest.raises(Conflict, match="not waiting for a call-back"):
            await ticket_service.record_callback(s, STAFF, ticket.number, "已回访", utcnow())
        closed = await _ticket(s, grid.id, status="cancelled")
        with pytest.raises(Conflict, match=f"ticket {closed.number} is cancelled"):
            await ticket_service.close(s, STAFF, closed.number, "办结", utcnow())
    await engine.dispose()


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (NotFound("no such ticket"), 404, "not_found"),
        (NotAllowed("only staff"), 403, "forbidden"),
        (Invalid("worker", "no worker named 'x'"), 400, "bad_request"),
        (Conflict("ticket 1001 is closed"), 409, "conflict"),
    ],
)
def test_domain_errors_map_once_to_the_api_error_shape(exc, status, code):
    response = domain_error(exc)
    assert response.status == status
    assert json.loads(response.text or "") == {"error": {"code": code, "message": exc.message}}


async def test_handoff_actions_raise_not_found_and_conflict(db_url):
    engine = create_engine(db_url)
    async with session_factory(engine)() as s, s.begin():
        with pytest.raises(NotFound, match="no such conversation"):
            await release_held(s, None, STAFF.name)
        with pytest.raises(NotFound):
            await reply_as_staff(s, 2**31 - 1, "您好", STAFF.name)
        conv = await get_or_create_conversation(s, "generic", "svc-h", "svc-hu")
        with pytest.raises(Conflict) as held_by_bot:
            await reply_as_staff(s, conv.id, "您好", STAFF.name)
        assert held_by_bot.value.code == "not_handed_off"
        with pytest.raises(Conflict, match="not handed off"):
            await release_held(s, conv.id, STAFF.name)
        conv.handed_off = True
        await s.flush()
        assert (await reply_as_staff(s, conv.id, "您好", STAFF.name)).id is not None
        assert (await release_held(s, conv.id, STAFF.name)).handed_off is False
    await engine.dispose()


def test_a_conflict_keeps_its_own_api_code():
    response = domain_error(Conflict("the bot holds this conversation", code="not_handed_off"))
    assert response.status == 409
    assert json.loads(response.text or "")["error"]["code"] == "not_handed_off"


async def test_relabel_raises_invalid_not_found_and_conflict(db_url):
    engine = create_engine(db_url)
    async with session_factory(engine)() as s, s.begin():
        with pytest.raises(Invalid) as bad:
            await nlu_review.relabel(s, 1, "no_such_intent", STAFF.name)
        assert bad.value.field == "intent"
        with pytest.raises(NotFound, match="no such inbound message"):
            await nlu_review.relabel(s, None, "greet", STAFF.name)
    await engine.dispose()
