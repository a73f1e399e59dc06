"""Retrain from corrections, compare held-out numbers, switch Rasa replicas: API and console."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import create_app
from bot.cli.run import recorded_live_model
from bot.runtime import RUNTIME
from nlu import paths
from nlu.client import Entity, ParseResult
from nlu.evaluate import Example
from nlu.evaluate_heldout import cache_file, summary
from nlu.rasa_process import RasaServer
from nlu.train import model_path_for, prune_models, train, training_hash
from storage.accounts import AuditEntry
from storage.db import create_engine, session_factory
from storage.messages import store_inbound
from storage.nlu_models import NluModel
from storage.residents import get_or_create_conversation
from tests.db_helpers import fetch
from tests.support import console_login, make_settings

TOKEN = "nlu-models-bootstrap-token-for-tests-0123"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
DEAD = "http://127.0.0.1:9"
PASSWORD = "models-password-1"
needs_rasa = pytest.mark.skipif(
    not paths.rasa_executable().exists() and not os.environ.get("CI"),
    reason="the Rasa venv is missing (scripts/setup-rasa.sh)",
)


@pytest.fixture(scope="session")
def cached_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache of our own holding the committed data's model (trained once if needed)."""
    folder = tmp_path_factory.mktemp("models")
    if paths.rasa_executable().exists():
        model = train()
        try:
            os.link(model, folder / model.name)
        except OSError:
            shutil.copy2(model, folder / model.name)
    return folder


@pytest.fixture
def model_dir(cached_models: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point LINLI_MODEL_DIR (this process and the training children) at that cache."""
    monkeypatch.setenv("LINLI_MODEL_DIR", str(cached_models))
    return cached_models


@pytest.fixture(scope="module")
def rasa_replica(
    cached_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A Rasa server this module owns, started on a copy named previous-live.tar.gz."""
    if not paths.rasa_executable().exists():
        pytest.skip("the Rasa venv is missing")
    first = tmp_path_factory.mktemp("replica") / "previous-live.tar.gz"
    shutil.copy2(model_path_for(training_hash()), first)
    server = RasaServer(first, log_dir=first.parent)
    server.start()
    try:
        server.wait_ready(timeout=900)
        yield server.url, first
    finally:
        server.stop()


async def start_app(tmp_path: Path, db_url: str, redis_url: str, out: str, nlu: str) -> TestClient:
    """The real app with a bootstrap admin token, talking to the given Rasa URL(s)."""
    await asyncio.to_thread(tmp_path.mkdir, parents=True, exist_ok=True)
    settings = make_settings(tmp_path, db_url, redis_url, nlu, out)
    app = create_app(settings.model_copy(update={"admin_token": TOKEN}))
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def api(tmp_path, db_url, redis_url, receiver) -> AsyncIterator[TestClient]:
    """The app, its NLU pointed nowhere (retraining needs no running Rasa)."""
    client = await start_app(tmp_path, db_url, redis_url, receiver[1], DEAD)
    yield client
    await client.close()


async def user(api: TestClient, name: str, role: str, **extra: str) -> dict[str, str]:
    """Create a user; their bearer header."""
    body = {"username": name, "role": role, "password": PASSWORD, **extra}
    resp = await api.post("/api/users", json=body, headers=ADMIN)
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def wait_for_status(api: TestClient, number: int, *wanted: str) -> dict[str, Any]:
    """Poll a candidate until it reaches one of the wanted states (or failed)."""
    for _ in range(1800):
        data = await (await api.get(f"/api/nlu/models/{number}", headers=ADMIN)).json()
        if data["status"] in (*wanted, "failed"):
            return data
        await asyncio.sleep(0.5)
    raise AssertionError(f"candidate {number} stuck in {data['status']}")


async def test_every_endpoint_names_its_roles_and_forms_need_csrf(api, db_url):
    ends = [("GET", "/api/nlu/models"), ("GET", "/api/nlu/models/1"),
            ("POST", "/api/nlu/models"), ("POST", "/api/nlu/models/1/activate")]  # fmt: skip
    for method, path in ends:
        assert (await api.request(method, path)).status == 401, path
    others = [
        await user(api, "li", "grid_worker", worker="李红梅"),
        await user(api, "prov", "provider", provider="康乐居家养老服务中心"),
        await user(api, "vol", "volunteer"),
    ]
    for headers in others:
        for method, path in ends:
            resp = await api.request(method, path, headers=headers)
            assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
    staff = await user(api, "liufang", "staff")
    listing = await (await api.get("/api/nlu/models", headers=staff)).json()
    assert listing["items"] == [] and listing["next"] is None
    assert listing["live"]["source"] == "committed_data"
    assert (await api.post("/api/nlu/models/1/activate", headers=staff)).status == 403
    assert (await api.post("/api/nlu/models/1/activate", headers=ADMIN)).status == 404
    assert (await api.get("/api/nlu/models/x1", headers=ADMIN)).status == 400
    spec = await (await api.get("/api/openapi.json")).json()
    assert spec["paths"]["/api/nlu/models/{id}/activate"]["post"]["description"] == "roles: admin"

    assert (await api.get("/admin/nlu/models", allow_redirects=False)).status == 303
    await console_login(api, "liufang", PASSWORD)
    page = await api.get("/admin/nlu/models")
    assert page.status == 200 and "重新训练" in await page.text()
    assert (await api.post("/admin/nlu/models", data={})).status == 403  # no CSRF token
    assert (await api.post("/admin/nlu/models/1/activate", data={})).status == 403
    assert await fetch(db_url, select(NluModel.id)) == []
    api.session.cookie_jar.clear()
    await console_login(api, "vol", PASSWORD)
    assert (await api.get("/admin/nlu/models")).status == 403


@needs_rasa
async def test_retrain_without_corrections_hits_the_cache_then_scores_both_models(
    model_dir, api, db_url
):
    staff = await user(api, "liufang", "staff")
    first, second = await asyncio.gather(
        api.post("/api/nlu/models", headers=staff), api.post("/api/nlu/models", headers=ADMIN)
    )
    assert sorted([first.status, second.status]) == [202, 409]
    started, refused = (first, second) if first.status == 202 else (second, first)
    candidate = await started.json()
    assert candidate["status"] == "training" and candidate["corrections"] == 0
    assert "already running" in (await refused.json())["error"]["message"]

    done = await wait_for_status(api, candidate["id"], "ready")
    assert done["status"] == "ready", done["reason"]
    committed = training_hash()
    assert done["model_hash"] == committed  # the candidate data is the committed data
    folder = api.app[RUNTIME].settings.var_dir / "nlu-candidates" / str(candidate["id"])
    assert (folder / "job.log").exists() and not (folder / "train.log").exists()  # cache hit
    scores = done["scores"]
    assert scores["examples"] > 100 and 0.5 < scores["accuracy"] <= 1
    assert 0 < scores["macro_f1"] <= 1 and 0 < scores["entity_f1"] <= 1
    assert scores["report_gas_recall"] is not None and "report_gas" in scores["intent_f1"]
    assert done["baseline"] == {"model_hash": committed, "scores": scores}

    listing = await (await api.get("/api/nlu/models", headers=staff)).json()
    assert [c["id"] for c in listing["items"]] == [candidate["id"]]
    assert listing["live"]["scores"] == scores and listing["live"]["model_hash"] == committed
    again = await api.post("/api/nlu/models", headers=staff)  # the lock was released
    assert again.status == 202
    await wait_for_status(api, (await again.json())["id"], "ready")
    actions = await fetch(db_url, select(AuditEntry.action).where(AuditEntry.action == "retrain"))
    assert len(actions) == 2

    await user(api, "boss", "admin")
    await console_login(api, "boss", PASSWORD)
    html = await (await api.get("/admin/nlu/models")).text()
    assert "候选模型 #1" in html and "待切换" in html and "准确率" in html
    assert html.count('class="switch"') == 2  # a switch button on each ready candidate


@needs_rasa
async def test_retrain_with_a_correction_trains_on_it(model_dir, api, db_url):
    runtime = api.app[RUNTIME]
    async with runtime.sessions() as session, session.begin():
        conv = await get_or_create_conversation(session, "generic", "nm-1", "nm-1")
        message = await store_inbound(
            session, conversation_id=conv.id, platform="generic", platform_msg_id="nm-1",
            text="小区门口那个灯 黑了好几天，电话13912345678",
        )  # fmt: skip
        assert message is not None
        message.intent, message.confidence = "nlu_fallback", 0.2
    resp = await api.post(
        f"/api/nlu/review/{message.id}", json={"intent": "report_streetlight"}, headers=ADMIN
    )
    assert resp.status == 200
    candidate = await (await api.post("/api/nlu/models", headers=ADMIN)).json()
    assert candidate["corrections"] == 1
    folder = runtime.settings.var_dir / "nlu-candidates" / str(candidate["id"])
    data = folder / "project" / "data" / "review_corrections.yml"
    train_log = folder / "train.log"
    for _ in range(600):  # until the training child has started rasa
        if train_log.exists() and "rasa train nlu" in train_log.read_text(encoding="utf-8"):
            break
        await asyncio.sleep(0.5)
    text = data.read_text(encoding="utf-8")
    assert "- intent: report_streetlight" in text
    assert "小区门口那个灯 黑了好几天，电话139****5678" in text and "13912345678" not in text
    assert training_hash(folder / "project") != training_hash()
    assert "rasa train nlu" in train_log.read_text(encoding="utf-8")
    assert (await api.get(f"/api/nlu/models/{candidate['id']}", headers=ADMIN)).status == 200
    await api.close()  # shutting down stops the training (its process group is killed)
    [stopped] = await fetch(db_url, select(NluModel))
    assert stopped.status == "failed" and "shut down" in (stopped.reason or "")
    assert not model_path_for(training_hash(folder / "project")).exists()


@needs_rasa
# Loading a model into Rasa replicas does not depend on the database; the model records on
# PostgreSQL are covered by the retrain tests above. SQLite only (it is the suite's longest test).
@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
async def test_switching_loads_the_model_into_every_replica(
    tmp_path, db_url, redis_url, receiver, model_dir, rasa_replica
):
    rasa_url, earlier = rasa_replica  # the replica serves previous-live.tar.gz, recorded live
    slow = aiohttp.ClientTimeout(total=1800)  # a loaded machine takes minutes to load a model
    async with aiohttp.ClientSession(timeout=slow) as http:
        status = await (await http.get(f"{rasa_url}/status")).json()
        if status["model_file"] != earlier.name:  # the other database's run switched it
            resp = await http.put(f"{rasa_url}/model", json={"model_file": str(earlier)})
            assert resp.status == 204
    known = {"accuracy": 0.5, "macro_f1": 0.5, "intent_f1": {"report_gas": 0.5}}
    cache_file(earlier, paths.HELDOUT_FILE).write_text(json.dumps(known), encoding="utf-8")
    engine = create_engine(db_url)
    async with session_factory(engine)() as session, session.begin():
        session.add(NluModel(status="live", requested_by="earlier", model_path=str(earlier),
                             model_hash="previous-live", scores={"macro_f1": 0.5}))  # fmt: skip
    await engine.dispose()
    both = await start_app(tmp_path / "a", db_url, redis_url, receiver[1], f"{rasa_url},{DEAD}")
    one = await start_app(tmp_path / "b", db_url, redis_url, receiver[1], rasa_url)
    try:
        made = await (await one.post("/api/nlu/models", headers=ADMIN)).json()
        ready = await wait_for_status(one, made["id"], "ready")
        assert ready["status"] == "ready"
        assert ready["baseline"] == {"model_hash": "previous-live", "scores": known}
        path = f"/api/nlu/models/{made['id']}/activate"
        resp = await both.post(path, headers=ADMIN, timeout=slow)
        assert resp.status == 502
        message = (await resp.json())["error"]["message"]
        assert DEAD in message and f"put back on the previous model: {rasa_url}" in message
        async with aiohttp.ClientSession() as http:
            status = await (await http.get(f"{rasa_url}/status")).json()
        assert status["model_file"] == earlier.name  # put back
        record = await (await one.get(f"/api/nlu/models/{made['id']}", headers=ADMIN)).json()
        assert record["status"] == "ready" and record["activated_at"] is None

        cache = redis.Redis.from_url(redis_url)
        cache.set("linli:nlu:stale-parse", "{}")
        await user(one, "boss", "admin")
        page = await console_login(one, "boss", PASSWORD)
        csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
        assert csrf is not None
        form = f"/admin/nlu/models/{made['id']}/activate"
        done = await one.post(form, data={"csrf": csrf.group(1)}, timeout=slow)
        assert f"已切换到候选模型 #{made['id']}" in await done.text()
        assert cache.get("linli:nlu:stale-parse") is None
        async with aiohttp.ClientSession(timeout=slow) as http:
            status = await (await http.get(f"{rasa_url}/status")).json()
            assert status["model_file"] == f"{ready['model_hash']}.tar.gz"
            parse = await http.post(f"{rasa_url}/model/parse", json={"text": "路灯坏了"})
            assert (await parse.json())["intent"]["name"] == "report_streetlight"
        live = (await (await one.get("/api/nlu/models", headers=ADMIN)).json())["live"]
        assert live["source"] == "switched_in" and live["id"] == made["id"]
        assert await recorded_live_model(db_url) == model_dir / f"{ready['model_hash']}.tar.gz"
        assert (await one.post(path, headers=ADMIN)).status == 409  # already live
        rows = await fetch(db_url, select(NluModel).order_by(NluModel.id))
        assert [r.status for r in rows] == ["retired", "live"]
        actions = await fetch(db_url, select(AuditEntry.action).order_by(AuditEntry.id))
        assert actions.count("activate_failed") == 1 and actions.count("activate_model") == 1
    finally:
        await both.close()
        await one.close()


def test_the_numbers_shown_for_a_model_by_hand() -> None:
    examples = [
        Example("楼道煤气味", "report_gas", (("location", 0, 2),)),
        Example("路灯坏了", "report_streetlight"),
        Example("有煤气", "report_gas"),
    ]
    results = [
        ParseResult("楼道煤气味", "report_gas", 0.9, (Entity("location", "楼道", 0, 2),)),
        ParseResult("路灯坏了", "report_gas", 0.5),
        ParseResult("有煤气", "report_gas", 0.8),
    ]
    numbers = summary(examples, results)
    assert numbers["accuracy"] == round(2 / 3, 4) and numbers["report_gas_recall"] == 1.0
    assert numbers["intent_f1"] == {"report_gas": 0.8, "report_streetlight": 0.0}
    assert numbers["macro_f1"] == 0.4 and numbers["entity_f1"] == 1.0


def test_pruning_after_a_training_keeps_the_live_model(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LINLI_MODEL_DIR", str(tmp_path))
    models = [tmp_path / f"{name}.tar.gz" for name in ("live", "old", "new")]
    for age, model in enumerate(models):
        model.write_bytes(b"model")
        os.utime(model, (1_000_000 + age, 1_000_000 + age))
    assert prune_models(keep=1, protect=[models[0]]) == [models[1]]
    assert models[0].exists() and models[2].exists()
