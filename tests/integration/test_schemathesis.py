"""schemathesis over the admin API: no server errors, every answer as /api/openapi.json says.

The real app listens on a local port with the demo community, two tickets, a handed-off
conversation and its messages; schemathesis generates valid and invalid requests for every
operation in the document and sends them as an admin and as a grid worker (whose scoping
must answer 403/404, never 500). The figures are printed for the closing note.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from bot.app import create_app
from bot.runtime import RUNTIME
from storage.accounts import ApiToken, create_user, issue_token
from storage.base import utcnow
from storage.messages import store_inbound
from storage.residents import Resident, get_or_create_conversation
from storage.ticket_flow import open_ticket
from tests.support import make_settings

TOKEN = "bootstrap-admin-token-for-schemathesis-0123"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
NO_NLU = "http://127.0.0.1:9"
# Examples per operation, generation mode and path variant: the default keeps each database's
# run near a minute; LINLI_SCHEMATHESIS_EXAMPLES=40 is a deeper search (about 8 minutes).
EXAMPLES = int(os.environ.get("LINLI_SCHEMATHESIS_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@dataclass
class Tally:
    """What one run did: operations, requests sent, failures (operation, message)."""

    operations: int = 0
    examples: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Seeded:
    """The running app's base URL and the ids of what was seeded."""

    base_url: str
    known: dict[str, str]


@pytest.fixture
async def seeded_api(tmp_path: Path, db_url: str, redis_url: str, receiver: Any):
    """The web role on a real port, with tickets in G01 and G02 and a handed-off conversation."""
    settings = make_settings(tmp_path, db_url, redis_url, NO_NLU, receiver[1])
    app = create_app(settings.model_copy(update={"admin_token": TOKEN}), worker_role=False)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    runtime = app[RUNTIME]
    conversation_id = message_id = 0
    async with runtime.sessions() as session, session.begin():
        for user, place, text in (
            ("st-a", "东关中巷", "东关中巷路灯坏了，我电话13912345678"),
            ("st-b", "幸福里小区", "幸福里小区路灯不亮，身份证110101199003077777"),
        ):
            conv = await get_or_create_conversation(session, "generic", user, user)
            stored = await store_inbound(
                session, conversation_id=conv.id, platform="generic", platform_msg_id=user,
                text=text,
            )  # fmt: skip
            conv.handed_off = True
            conversation_id, message_id = conv.id, stored.id
            resident = await session.get(Resident, conv.resident_id)
            resident.phone = "13912345678"
            await open_ticket(
                session, runtime.services, category="streetlight", description=text,
                reporter=resident, now=utcnow(), actor="test", location=place,
            )  # fmt: skip
        target = await create_user(session, "st-target", "staff", password="a-long-password-1")
        await issue_token(session, target, "created", utcnow() + timedelta(days=1))
        token_id = (await session.scalars(select(ApiToken.id))).one()
    known = {
        "number": "1001",
        "id": str(conversation_id),
        "message": str(message_id),
        "user": str(target.id),
        "token": str(token_id),
    }
    yield Seeded(str(server.make_url("")).rstrip("/"), known)
    await server.close()


def _user_token(base_url: str, role: str, username: str) -> dict[str, str]:
    body = {"username": username, "role": role, "password": "a-long-password-1"}
    if role == "grid_worker":
        body["worker"] = "李红梅"
    resp = requests.post(f"{base_url}/api/users", json=body, headers=ADMIN, timeout=30)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


def _describe(failure: Exception, group: FailureGroup) -> str:
    """One failure's title and message, and the request that showed it."""
    title = getattr(failure, "title", type(failure).__name__)
    message = " ".join(getattr(failure, "message", str(failure)).split())
    curl = str(group).rsplit("Reproduce with:", 1)[-1].strip().split("\n", 1)[0]
    return f"{title}: {message.strip()[:600]} ({curl})"


def _fixed_path(label: str, known: dict[str, str]) -> dict[str, str] | None:
    """Path parameters naming seeded rows, so actions reach real tickets and conversations."""
    if "{number}" in label and "/tickets/" in label:
        return {"number": known["number"]}
    if "/nlu/review/{id}" in label:
        return {"id": known["message"]}
    if "/conversations/{id}" in label:
        return {"id": known["id"]}
    if "/users/{id}" in label:
        return {"id": known["user"]}
    if "/tokens/{id}" in label:
        return {"id": known["token"]}
    return None


def _exercise(
    operation: schemathesis.APIOperation, strategy: Any, seeded: Seeded,
    headers: dict[str, str], session: requests.Session, tally: Tally,
) -> None:  # fmt: skip
    """Send the strategy's examples; record each failing check instead of stopping at one."""

    @hypothesis_settings(
        max_examples=EXAMPLES, deadline=None, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(case=strategy)
    def exercise(case: schemathesis.Case) -> None:
        tally.examples += 1
        try:
            response = case.call(
                base_url=seeded.base_url, headers=headers, session=session, timeout=30
            )
            tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as exc:
            for failure in exc.exceptions:
                tally.failures.append((operation.label, _describe(failure, exc)))
        except requests.RequestException as exc:
            tally.failures.append((operation.label, f"no answer: {exc!r}"))

    exercise()


# Retraining starts `rasa train` and a scoring Rasa in child processes, and switching
# loads a model into every replica: minutes of CPU per generated request. Their input
# handling, roles and conflicts are tested in tests/e2e/test_nlu_models.py.
STARTS_REAL_WORK = {"POST /api/nlu/models", "POST /api/nlu/models/{id}/activate"}
# Logging out ends the token the run sends: these go last, with a token of their own.
ENDS_THE_CALLERS_TOKEN = {"POST /api/logout"}


def _run(seeded: Seeded, role: str) -> Tally:
    """Every operation, valid and invalid data, sent with the role's token (runs in a thread)."""
    schema = schemathesis.openapi.from_url(f"{seeded.base_url}/api/openapi.json")
    headers = ADMIN if role == "admin" else _user_token(seeded.base_url, role, "st-li")
    tally = Tally()
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [o for o in operations if o.label not in STARTS_REAL_WORK]
    ending = [o for o in operations if o.label in ENDS_THE_CALLERS_TOKEN]
    with requests.Session() as session:
        for operation in [o for o in operations if o.label not in ENDS_THE_CALLERS_TOKEN] + ending:
            if operation.label in ENDS_THE_CALLERS_TOKEN:
                headers = _user_token(seeded.base_url, role, f"st-leaving-{role}")
            tally.operations += 1
            fixed = _fixed_path(operation.label, seeded.known)
            variants: list[dict[str, Any]] = [{}] + ([{"path_parameters": fixed}] if fixed else [])
            for mode in MODES:
                for extra in variants:
                    strategy = operation.as_strategy(generation_mode=mode, **extra)
                    _exercise(operation, strategy, seeded, headers, session, tally)
    return tally


@pytest.mark.parametrize("role", ["admin", "grid_worker"])
async def test_the_admin_api_holds_against_generated_requests(
    seeded_api: Seeded, role: str, db_kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    tally = await asyncio.to_thread(_run, seeded_api, role)
    seconds = time.monotonic() - started
    failed_operations = sorted({label for label, _ in tally.failures})
    with capsys.disabled():
        print(
            f"\nschemathesis [{db_kind}, {role}]: {tally.operations} operations, "
            f"{tally.examples} examples, {len(tally.failures)} failures "
            f"in {len(failed_operations)} operations, {seconds:.0f} s; "
            f"statuses {dict(sorted(tally.statuses.items()))}"
        )
    assert tally.operations >= 20 and tally.examples > tally.operations * 2
    distinct = sorted({(label, message.split(" (curl")[0]) for label, message in tally.failures})
    details = "\n".join(f"{label}: {message}" for label, message in distinct[:30])
    assert not tally.failures, f"{failed_operations}\n\n{details}"
