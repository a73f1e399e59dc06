"""The conversation scenario suite (issue 15): every tests/scenarios/*.yml scenario, one test each.

Each scenario is a resident's conversation sent through the signed generic webhook of a
freshly seeded demo community, parsed by the real Rasa model, and judged by what the
product did, read through the admin API (tests/scenarios/judge.py, FORMAT.md); how they
run, and why each has its own database, is in tests/scenarios/runner.py. The whole suite
runs once, several scenarios at a time, in the module's fixture; each test then reports
its scenario's outcome. The summary (pass rates per flow and class, failures by class) is
printed at the end of the run and written to var/scenario-report.json.

SQLite only: the suite is about the conversation; the storage tiers run on SQLite and
PostgreSQL in the rest of tests/.

Most scenarios fail today by design (the conversation engine is rewritten later).
tests/scenarios/known_failures.txt lists those, each with the reason it failed: a listed
scenario is xfail(strict=True), so it must still fail, and one that starts passing must be
taken off the list; every other scenario must pass. A scenario that could not be run at
all (a harness or environment error) fails whether listed or not.
"""

from __future__ import annotations

import asyncio
import faulthandler
import os
import time
from pathlib import Path
from typing import Any

import pytest
from _pytest.faulthandler import fault_handler_stderr_fd_key

from tests.scenarios import runner
from tests.scenarios.format import Scenario, load_scenarios
from tests.scenarios.judge import Observed, Turn, judge

KNOWN_FAILURES = Path(__file__).resolve().parents[1] / "scenarios" / "known_failures.txt"
SCENARIOS = load_scenarios()
SUITE_SECONDS = 1200.0  # a run longer than this is a hang (it takes 6-7 minutes)


class ScenarioFailed(AssertionError):
    """The product did not do what the scenario expects (one line per unmet expectation)."""


def known_failures(path: Path = KNOWN_FAILURES) -> dict[str, str]:
    """Scenario id → the reason it fails today, from `id  # reason` lines."""
    listed: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        sid, _, reason = line.partition("#")
        if sid.strip():
            listed[sid.strip()] = reason.strip()
    return listed


KNOWN = known_failures()


def _param(scenario: Scenario) -> object:
    marks = []
    if scenario.id in KNOWN:
        reason = (
            f"known failure (take it off known_failures.txt once it passes): {KNOWN[scenario.id]}"
        )
        marks.append(pytest.mark.xfail(strict=True, raises=ScenarioFailed, reason=reason))
    marks += [pytest.mark.scenarios, pytest.mark.rasa]
    return pytest.param(scenario, id=scenario.id, marks=marks)


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest,
    rasa_url: str,
    redis_server: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, runner.Outcome]:
    """Run the selected scenarios once, concurrently; write and remember the summary."""
    prefix = request.node.nodeid + "::test_scenario["
    wanted = {
        item.callspec.params["scenario"].id
        for item in request.session.items
        if item.nodeid.startswith(prefix) and hasattr(item, "callspec")
    }
    chosen = [s for s in SCENARIOS if s.id in wanted]
    jobs = int(os.environ.get("LINLI_SCENARIO_JOBS", runner.DEFAULT_JOBS))
    # The whole suite runs inside this one fixture: give the hang detector (pyproject's
    # faulthandler_timeout, per test) the suite's bound instead, then the usual one back.
    per_test = float(request.config.getini("faulthandler_timeout") or 0)
    stderr = request.config.stash.get(fault_handler_stderr_fd_key, 2)  # where pytest dumps
    if per_test:
        faulthandler.dump_traceback_later(max(per_test, SUITE_SECONDS), file=stderr)
    started = time.monotonic()
    done = asyncio.run(
        runner.run_scenarios(
            chosen,
            rasa_url=rasa_url,
            redis_url=redis_server,
            workdir=tmp_path_factory.mktemp("scenarios"),
            jobs=jobs,
        )
    )
    seconds = time.monotonic() - started
    if per_test:
        faulthandler.dump_traceback_later(per_test, file=stderr)
    report = runner.summarise(done, seconds, jobs, total=len(SCENARIOS))
    runner.write_report(report)
    runner.SUMMARY[:] = runner.format_summary(report)
    return {o.id: o for o in done}


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS])
def test_scenario(scenario: Scenario, outcomes: dict[str, runner.Outcome]) -> None:
    outcome = outcomes[scenario.id]
    if outcome.error is not None:
        raise runner.ScenarioError(f"{scenario.id} could not run: {outcome.error}")
    if outcome.failures:
        lines = "\n".join([*outcome.failures, "", *outcome.transcript])
        raise ScenarioFailed(f"{scenario.id} ({scenario.note}):\n{lines}")


def test_known_failures_name_real_scenarios() -> None:
    ids = {s.id for s in SCENARIOS}
    assert sorted(set(KNOWN) - ids) == []


# The judge itself, on records as the admin API gives them (no app, no model).


def _seen(**records: object) -> Observed:
    base: dict[str, object] = {
        "tickets": [],
        "bookings": [],
        "orders": [],
        "wishes": [],
        "turns": [],
        "handed_off": False,
    }
    return Observed(**{**base, **records})  # type: ignore[arg-type]


def _scenario(expect: dict[str, Any]) -> Scenario:
    return Scenario(id="x", flow="report", classes=("up_front",), note="n", turns=(), expect=expect)


def _ticket(location: str, category: str = "streetlight", **extra: object) -> dict[str, object]:
    return {
        "number": "1001",
        "category": category,
        "location": location,
        "status": "assigned",
        "urgent": False,
        "description": "",
        "events": [],
        **extra,
    }


def test_the_judge_wants_the_whole_place_and_no_extra_ticket() -> None:
    expect = {"tickets": [{"category": "streetlight", "location_has": ["光华社区12号楼3单元"]}]}
    assert judge(_scenario(expect), _seen(tickets=[_ticket("光华社区12号楼3单元门口")])) == []
    [cut] = judge(_scenario(expect), _seen(tickets=[_ticket("光华")]))
    assert "lacks '光华社区12号楼3单元'" in cut
    two = [_ticket("光华社区12号楼3单元"), {**_ticket("光华社区12号楼3单元"), "number": "1002"}]
    [extra] = judge(_scenario(expect), _seen(tickets=two))
    assert extra.startswith("tickets: unexpected ticket 1002")
    assert judge(_scenario({"tickets": []}), _seen()) == []
    assert judge(_scenario({"tickets": []}), _seen(tickets=[_ticket("东关中巷")]))


def test_the_judge_reads_details_in_the_history_and_counts_fallbacks() -> None:
    expect = {"tickets": [{"category": "streetlight", "details_has": ["二楼拐角"]}]}
    noted = _ticket("东关中巷", events=[{"kind": "comment", "note": "补充：二楼拐角那盏"}])
    assert judge(_scenario(expect), _seen(tickets=[noted])) == []
    menu = Turn("补充一下", "inform", "menu", [{"action": "menu", "text": "抱歉"}])
    fine = Turn("东关中巷路灯坏了", "report_streetlight", "report_confirm", [])
    [line] = judge(_scenario({}), _seen(turns=[fine, menu]))
    assert line == "fallback: turn 2 '补充一下' got menu"
    assert judge(_scenario({"fallback": True}), _seen(turns=[fine, menu])) == []
    asked = Turn("对对 谢谢啊", "thank", "ask_again", [])
    assert judge(_scenario({}), _seen(turns=[asked]))


def test_the_judge_compares_bookings_orders_wishes_faq_and_handoff() -> None:
    booking = {
        "id": 1,
        "number": "Y1001",
        "kind": "rehab",
        "station": "东关社区吉康之家",
        "title": "康复评估与指导",
        "starts_at": "2026-12-03T14:30:00+08:00",
        "status": "booked",
    }
    good = {
        "kind": "rehab",
        "station_has": "东关",
        "weekday": 4,
        "part_of_day": "afternoon",
        "service_has": "评估",
        "status": "booked",
    }
    assert judge(_scenario({"bookings": [good]}), _seen(bookings=[booking])) == []
    [wrong] = judge(_scenario({"bookings": [{**good, "weekday": 5}]}), _seen(bookings=[booking]))
    assert "weekday 4" in wrong
    order = {"id": 1, "number": "J1001", "service_item": "助餐（上门做饭）", "elder": "赵**"}
    wanted = {"elder": "赵桂兰", "service_has": "做饭"}
    assert judge(_scenario({"orders": [wanted]}), _seen(orders=[order])) == []
    assert judge(_scenario({"orders": [{"elder": "钱福生"}]}), _seen(orders=[order]))
    wish = {"id": 1, "number": "X1001", "wish": "一套课外书", "for_whom": "孩子", "due": "东关中巷"}
    spec = {"text_has": ["课外书"], "text_not_has": ["东关中巷"]}
    [leak] = judge(_scenario({"wishes": [spec]}), _seen(wishes=[wish]))
    assert "holds '东关中巷'" in leak
    faq = Turn("一个月多少小时", "faq/home_care_hours_fee", "faq:home_care_hours_fee", [])
    assert judge(_scenario({"faq": ["home_care_hours_fee"]}), _seen(turns=[faq])) == []
    assert judge(_scenario({"faq": ["home_care_items"]}), _seen(turns=[faq]))
    assert judge(_scenario({"handoff": True}), _seen(handed_off=True)) == []
    assert judge(_scenario({"handoff": True}), _seen(handed_off=False))
