"""Tests of nlu.client: result mapping, round-robin, retry, circuit breaker, real Rasa."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from nlu import cli
from nlu.client import Entity, NLUClient, NLUUnavailable, ParseResult
from nlu.rasa_process import find_free_port

STREETLIGHT = "东关中巷的路灯坏了"

RASA_FAQ_ANSWER: dict[str, Any] = {
    "text": "吉康之家几点开门",
    "intent": {"name": "faq", "confidence": 0.93},
    "entities": [],
    "intent_ranking": [
        {"name": "faq", "confidence": 0.93},
        {"name": "book_rehab", "confidence": 0.05},
    ],
    "response_selector": {
        "all_retrieval_intents": ["faq"],
        "faq": {
            "response": {
                "responses": [{"text": "..."}],
                "confidence": 0.88,
                "intent_response_key": "faq/service_station",
                "utter_action": "utter_faq/service_station",
            },
            "ranking": [{"confidence": 0.88, "intent_response_key": "faq/service_station"}],
        },
    },
}


def streetlight_answer(text: str) -> dict[str, Any]:
    """Return a Rasa-shaped answer for a street-light report."""
    return {
        "text": text,
        "intent": {"name": "report_streetlight", "confidence": 0.97},
        "entities": [
            {
                "entity": "location",
                "start": 0,
                "end": 4,
                "value": text[:4],
                "extractor": "DIETClassifier",
            }
        ],
        "intent_ranking": [{"name": "report_streetlight", "confidence": 0.97}],
    }


@dataclass
class FakeRasa:
    """State of a fake Rasa server: what it answers and how often it was hit."""

    mode: str = "ok"  # ok | error | noload
    hits: list[str] = field(default_factory=list)
    url: str = ""


@asynccontextmanager
async def fake_rasa(mode: str = "ok") -> AsyncIterator[FakeRasa]:
    """Run a small aiohttp server that imitates Rasa's /status and /model/parse."""
    state = FakeRasa(mode=mode)

    async def parse(request: web.Request) -> web.Response:
        state.hits.append("parse")
        if state.mode == "error":
            return web.json_response({"error": "boom"}, status=500)
        if state.mode == "noload":
            return web.json_response({"status": "failure"}, status=409)
        body = await request.json()
        return web.json_response(streetlight_answer(body["text"]))

    async def status(request: web.Request) -> web.Response:
        state.hits.append("status")
        if state.mode != "ok":
            return web.json_response({"status": "failure"}, status=409)
        return web.json_response({"model_file": "x.tar.gz", "model_id": "abc"})

    app = web.Application()
    app.router.add_post("/model/parse", parse)
    app.router.add_get("/status", status)
    runner = web.AppRunner(app)
    await runner.setup()
    port = find_free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    state.url = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        await runner.cleanup()


def dead_url() -> str:
    """Return a URL on which nothing listens."""
    return f"http://127.0.0.1:{find_free_port()}"


# --- result mapping -------------------------------------------------------------------------


def test_faq_intent_gets_full_retrieval_name() -> None:
    result = ParseResult.from_rasa("吉康之家几点开门", RASA_FAQ_ANSWER)
    assert result.intent == "faq/service_station"
    assert result.confidence == pytest.approx(0.93)
    assert result.ranking[0] == ("faq/service_station", pytest.approx(0.93))
    assert result.ranking[1][0] == "book_rehab"


def test_full_retrieval_intent_name_field_wins() -> None:
    data = {"intent": {"name": "faq", "confidence": 0.9, "full_retrieval_intent_name": "faq/x"}}
    assert ParseResult.from_rasa("q", data).intent == "faq/x"


def test_ranking_entries_keep_their_own_faq_keys() -> None:
    # The TF-IDF intent classifier ranks FAQ keys as `faq` entries with their full names.
    data = {
        "intent": {"name": "faq", "confidence": 0.6, "full_retrieval_intent_name": "faq/a"},
        "intent_ranking": [
            {"name": "faq", "confidence": 0.6, "full_retrieval_intent_name": "faq/a"},
            {"name": "book_rehab", "confidence": 0.3},
            {"name": "faq", "confidence": 0.1, "full_retrieval_intent_name": "faq/b"},
        ],
    }
    result = ParseResult.from_rasa("q", data)
    assert result.intent == "faq/a"
    assert [name for name, _ in result.ranking] == ["faq/a", "book_rehab", "faq/b"]


def test_fallback_and_empty_intent() -> None:
    data = {"intent": {"name": "nlu_fallback", "confidence": 0.31}, "entities": []}
    result = ParseResult.from_rasa("嗯嗯", data)
    assert (result.intent, result.confidence) == ("nlu_fallback", pytest.approx(0.31))
    assert ParseResult.from_rasa("", {"intent": {"name": None, "confidence": 0.0}}).intent == (
        "nlu_fallback"
    )


def test_to_dict_is_json_safe() -> None:
    result = ParseResult.from_rasa(STREETLIGHT, streetlight_answer(STREETLIGHT))
    assert result.entities == (Entity("location", "东关中巷", 0, 4),)
    data = json.loads(json.dumps(result.to_dict()))
    assert data == {
        "text": STREETLIGHT,
        "intent": "report_streetlight",
        "confidence": pytest.approx(0.97),
        "entities": [{"entity": "location", "value": "东关中巷", "start": 0, "end": 4}],
        "ranking": [["report_streetlight", pytest.approx(0.97)]],
    }


# --- transport: fake servers ------------------------------------------------------------------


async def test_dead_port_raises_unavailable() -> None:
    async with NLUClient([dead_url()], timeout=2) as client:
        with pytest.raises(NLUUnavailable):
            await client.parse(STREETLIGHT)
        assert await client.ready() is False


async def test_5xx_raises_unavailable() -> None:
    async with fake_rasa("error") as server, NLUClient([server.url]) as client:
        with pytest.raises(NLUUnavailable):
            await client.parse(STREETLIGHT)


async def test_parse_against_fake_server() -> None:
    async with fake_rasa() as server, NLUClient([server.url]) as client:
        result = await client.parse(STREETLIGHT)
    assert result.intent == "report_streetlight"
    assert STREETLIGHT[result.entities[0].start : result.entities[0].end] == "东关中巷"


async def test_round_robin_spreads_load() -> None:
    async with fake_rasa() as a, fake_rasa() as b, NLUClient([a.url, b.url]) as client:
        for _ in range(6):
            await client.parse(STREETLIGHT)
    assert a.hits.count("parse") == 3
    assert b.hits.count("parse") == 3


async def test_failed_replica_is_retried_on_another() -> None:
    async with fake_rasa() as good, NLUClient([dead_url(), good.url], timeout=2) as client:
        for _ in range(4):
            assert (await client.parse(STREETLIGHT)).intent == "report_streetlight"
    assert good.hits.count("parse") == 4


async def test_circuit_breaker_opens_and_recovers() -> None:
    async with (
        fake_rasa("error") as bad,
        NLUClient([bad.url], failure_threshold=2, cooldown=0.3) as client,
    ):
        for _ in range(2):
            with pytest.raises(NLUUnavailable):
                await client.parse(STREETLIGHT)
        assert client.breakers[bad.url].is_open()
        with pytest.raises(NLUUnavailable, match="all NLU servers are failing"):
            await client.parse(STREETLIGHT)
        assert bad.hits.count("parse") == 2  # the open breaker kept the third call away
        await asyncio.sleep(0.35)
        bad.mode = "ok"  # half-open after the cool-down: one success closes it
        assert (await client.parse(STREETLIGHT)).intent == "report_streetlight"
        assert not client.breakers[bad.url].is_open()
        assert client.breakers[bad.url].failures == 0


async def test_open_breaker_skips_replica_in_rotation() -> None:
    async with (
        fake_rasa("error") as bad,
        fake_rasa() as good,
        NLUClient([bad.url, good.url], failure_threshold=1, cooldown=60) as client,
    ):
        for _ in range(5):
            await client.parse(STREETLIGHT)
    assert bad.hits.count("parse") == 1
    assert good.hits.count("parse") == 5


async def test_ready_needs_a_loaded_model() -> None:
    async with fake_rasa("noload") as empty, fake_rasa() as loaded:
        async with NLUClient([empty.url]) as client:
            assert await client.ready() is False
        async with NLUClient([empty.url, loaded.url]) as client:
            assert await client.ready() is True


async def test_start_is_idempotent_and_parse_starts_lazily() -> None:
    async with fake_rasa() as server:
        client = NLUClient([server.url])
        await client.parse(STREETLIGHT)
        session = client._session
        await client.start()
        assert client._session is session
        await client.close()
        await client.close()


def test_urls_may_be_a_comma_separated_string() -> None:
    assert NLUClient("http://a:1/, http://b:2").urls == ["http://a:1", "http://b:2"]
    with pytest.raises(ValueError):
        NLUClient([])


# --- the real Rasa server ---------------------------------------------------------------------


@pytest.mark.rasa
async def test_real_streetlight_report(rasa_url: str) -> None:
    async with NLUClient([rasa_url]) as client:
        result = await client.parse(STREETLIGHT)
    assert result.intent == "report_streetlight"
    assert result.confidence > 0.5
    locations = [e for e in result.entities if e.entity == "location"]
    assert locations, result
    loc = locations[0]
    assert STREETLIGHT[loc.start : loc.end] == loc.value == "东关中巷"


@pytest.mark.rasa
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("吉康之家几点开门", "faq/service_station"),
        ("微心愿是什么意思", "faq/micro_wish"),
        ("残疾证去哪里办要带什么", "faq/disability_cert"),
    ],
)
async def test_real_faq_full_names(rasa_url: str, text: str, key: str) -> None:
    async with NLUClient([rasa_url]) as client:
        result = await client.parse(text)
    assert result.intent == key, result


@pytest.mark.rasa
async def test_real_ready_and_failover(rasa_url: str) -> None:
    async with NLUClient([dead_url(), rasa_url], timeout=30) as client:
        assert await client.ready() is True
        for _ in range(3):
            assert (await client.parse(STREETLIGHT)).intent == "report_streetlight"


@pytest.mark.rasa
def test_cli_predict_writes_json_lines(
    rasa_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{STREETLIGHT}\n\n在吗\n"))
    assert cli.cmd_predict(argparse.Namespace(url=rasa_url)) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["text"] for r in rows] == [STREETLIGHT, "在吗"]
    assert rows[0]["intent"] == "report_streetlight"
    # the product's own reading: the text it saw after normalisation beside the original
    assert set(rows[0]) == {"text", "normalized", "intent", "confidence", "entities"}
