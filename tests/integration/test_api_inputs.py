"""The admin API on input schemathesis found breaking it: each a regression test.

Runs on the same app as tests/integration/test_api.py (its `api` fixture: a bootstrap admin, a
street-light ticket in G01 and one in G02).
"""

from __future__ import annotations

from tests.integration import test_api

api = test_api.api  # the same fixture: a bootstrap admin, tickets 1001 (G01) and 1002 (G02)
ADMIN = test_api.ADMIN


async def test_numbers_past_every_id_and_odd_digits_are_answered_not_crashed(api):
    # found by schemathesis: PostgreSQL refuses integers over 2**31-1, and "²".isdigit()
    for path in ("/api/tickets", "/api/conversations", "/api/audit", "/api/wishes",
                 "/api/messages", "/api/conversations/1/messages"):  # fmt: skip
        resp = await api.get(f"{path}?cursor=265948474335", headers=ADMIN)
        assert resp.status in (200, 404), (path, await resp.text())
        assert (await api.get(f"{path}?cursor=²", headers=ADMIN)).status == 400
    assert (await api.get("/api/conversations/99999999999/messages", headers=ADMIN)).status == 404
    assert (await api.get("/api/conversations/١/messages", headers=ADMIN)).status == 400
    assert (await api.get("/api/nlu/models/³", headers=ADMIN)).status == 400  # was a 500
    resp = await api.post("/api/conversations/99999999999/release", headers=ADMIN)
    assert resp.status == 404
    resp = await api.post("/api/nlu/review/99999999999", json={"intent": "greet"}, headers=ADMIN)
    assert resp.status == 404


async def test_nul_characters_are_refused_before_the_database(api):
    # found by schemathesis: PostgreSQL cannot store or compare text holding NUL
    for query in ("grid=%00", "category=a%00b"):
        resp = await api.get(f"/api/tickets?{query}", headers=ADMIN)
        assert resp.status == 400 and "NUL" in (await resp.json())["error"]["message"]
    assert (await api.get("/api/stats?grid=G0%001", headers=ADMIN)).status == 400
    assert (await api.get("/api/messages?q=%00", headers=ADMIN)).status == 400
    assert (await api.get("/api/tickets/10%0001", headers=ADMIN)).status == 400
    resp = await api.post("/api/tickets/1001/comments", json={"note": "a\x00b"}, headers=ADMIN)
    assert resp.status == 400
    resp = await api.post("/api/tickets/1001/comments", json={"note": "ok", "x": ["\x00"]},
                          headers=ADMIN)  # fmt: skip
    assert resp.status == 400


async def test_unpaired_surrogates_in_a_body_are_refused_not_crashed(api):
    # found by schemathesis: JSON "\ud800" is a Python str no database or hash can encode
    for path, body in (
        ("/api/login", '{"username": "\\ud800", "password": "x"}'),
        ("/api/tickets/1001/comments", '{"note": "a\\udc00b"}'),
    ):
        resp = await api.post(
            path, data=body, headers={**ADMIN, "Content-Type": "application/json"}
        )
        assert resp.status == 400, (path, await resp.text())
        assert "surrogate" in (await resp.json())["error"]["message"]


async def test_statistics_refuse_dates_that_cannot_be_counted(api):
    # found by schemathesis: year 1 and year 9999 overflowed in the UTC shift (500)
    for query in ("from=0001-01-01&to=0001-01-05", "from=9999-12-01&to=9999-12-31"):
        resp = await api.get(f"/api/stats?{query}", headers=ADMIN)
        assert resp.status == 400, query
    assert (await api.get("/api/stats/monthly?month=9999-12", headers=ADMIN)).status == 400
    assert (await api.get("/api/stats/monthly?month=0001-01", headers=ADMIN)).status == 400


async def test_the_openapi_document_names_every_answer(api):
    spec = await (await api.get("/api/openapi.json")).json()
    detail = spec["paths"]["/api/tickets/{number}"]["get"]["responses"]
    assert {"200", "400", "401", "403", "404"} <= set(detail)
    assert "409" in spec["paths"]["/api/tickets/{number}/close"]["post"]["responses"]
    assert "429" in spec["paths"]["/api/login"]["post"]["responses"]
    assert "413" in spec["paths"]["/api/users"]["post"]["responses"]
    stats = spec["paths"]["/api/stats"]["get"]["responses"]["200"]["content"]
    assert set(stats) == {"application/json", "text/csv"}
    items = spec["paths"]["/api/tickets"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]["properties"]["items"]["items"]["properties"]  # fmt: skip
    assert items["assignee"] == {"type": ["string", "null"]} and items["id"] == {"type": "integer"}
