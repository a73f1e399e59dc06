"""Tests of the NLU evaluation tooling: scoring maths, folds, baseline, report files, CLI."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from nlu import cli
from nlu import paths as nlu_paths
from nlu.client import Entity, NLUClient, ParseResult
from nlu.evaluate import (
    Example,
    classification_scores,
    confused_pairs,
    confusion_matrix,
    entity_overlap_scores,
    entity_scores,
    macro_f1,
    read_examples,
    read_hard_negatives,
    score,
    stratified_folds,
)
from nlu.evaluate_report import save_confusion_png, write
from nlu.evaluate_run import PredictionCache, SystemResult, cross_validate, run
from nlu.evaluate_systems import TfidfLogReg, TrainingSet, nlu_yaml, read_training, to_original

TINY = {
    "report_streetlight": ["路灯坏了", "路灯不亮了", "小区路灯一闪一闪", "门口的路灯灭了"],
    "report_gas": ["楼道里有煤气味", "闻到燃气味了", "煤气泄漏了", "厨房一股煤气味"],
    "greet": ["你好", "在吗", "有人吗", "您好啊"],
}


def _examples(data: dict[str, list[str]] = TINY) -> list[Example]:
    return [Example(text, intent) for intent, texts in data.items() for text in texts]


def test_precision_recall_f1_and_macro_by_hand() -> None:
    gold = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", "c", "c"]
    scores = classification_scores(gold, predicted)
    assert (scores["a"].precision, scores["a"].recall) == (1.0, pytest.approx(2 / 3))
    assert scores["a"].f1 == pytest.approx(0.8)
    assert (scores["b"].precision, scores["b"].recall, scores["b"].f1) == (0.5, 0.5, 0.5)
    assert scores["c"].precision == 0.5 and scores["c"].recall == 1.0
    assert scores["c"].f1 == pytest.approx(2 / 3)
    assert [s.support for s in scores.values()] == [3, 2, 1]
    assert macro_f1(scores) == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_macro_f1_counts_a_predicted_only_label() -> None:
    scores = classification_scores(["a", "b"], ["a", "nlu_fallback"])
    assert set(scores) == {"a", "b", "nlu_fallback"}
    assert scores["nlu_fallback"].support == 0
    assert macro_f1(scores) == pytest.approx(1 / 3)


def test_entity_f1_needs_the_exact_span() -> None:
    gold = [[("location", 0, 4), ("time", 5, 7)], [("relation", 0, 2)]]
    predicted = [[("location", 0, 4), ("time", 5, 8)], [("relation", 0, 2), ("device", 3, 5)]]
    scores = entity_scores(gold, predicted)
    assert scores["location"].f1 == 1.0
    assert (scores["time"].precision, scores["time"].recall, scores["time"].f1) == (0, 0, 0)
    assert scores["time"].support == 1
    assert scores["device"].precision == 0.0 and scores["device"].support == 0
    assert scores["relation"].f1 == 1.0


def test_confusion_matrix_and_most_confused_pairs() -> None:
    gold = ["a", "a", "a", "b", "b", "c", "c"]
    predicted = ["a", "b", "b", "a", "b", "b", "c"]
    labels, matrix = confusion_matrix(gold, predicted)
    assert labels == ["a", "b", "c"]
    assert matrix == [[1, 2, 0], [1, 1, 0], [0, 1, 1]]
    assert confused_pairs(gold, predicted) == [("a", "b", 2), ("b", "a", 1), ("c", "b", 1)]
    assert confused_pairs(gold, predicted, top=1) == [("a", "b", 2)]


def test_score_reports_intents_entities_and_errors() -> None:
    examples = [
        Example("东关中巷路灯坏了", "report_streetlight", (("location", 0, 4),)),
        Example("在吗", "greet"),
    ]
    results = [
        ParseResult(
            "东关中巷路灯坏了", "report_streetlight", 0.9, (Entity("location", "东关", 0, 2),)
        ),
        ParseResult("在吗", "greet", 0.8),
    ]
    report = score(examples, results)
    assert report.accuracy == 1.0 and report.macro_f1 == 1.0
    assert report.entities["location"].f1 == 0.0
    assert [e["text"] for e in report.errors] == ["东关中巷路灯坏了"]
    assert score(examples, results, with_entities=False).errors == []


def test_stratified_folds_partition_every_intent() -> None:
    examples = _examples()
    folds = stratified_folds(examples, 2)
    assert sorted(i for f in folds for i in f) == list(range(len(examples)))
    for fold in folds:
        intents = [examples[i].intent for i in fold]
        assert {intents.count(name) for name in TINY} == {2}
    assert stratified_folds(examples, 2) == folds  # seeded: the same split every run
    with pytest.raises(ValueError):
        stratified_folds(examples, 1)


def test_training_yaml_round_trip(tmp_path: Path) -> None:
    examples = [
        Example(
            "东关中巷路灯坏了",
            "report_streetlight",
            (("location", 0, 4),),
            "[东关中巷](location)路灯坏了",
        ),
        Example("微心愿是啥", "faq/micro_wish"),
    ]
    regex = {"regex": "ticket_id", "examples": "- (?<![0-9])[0-9]{4,6}(?![0-9])\n"}
    (tmp_path / "nlu.yml").write_text(nlu_yaml(examples, [regex]), encoding="utf-8")
    training = read_training(tmp_path)
    assert training.examples == examples
    assert training.extras == [regex]


def test_to_original_maps_entities_back_through_normalisation() -> None:
    text = "三號樓😭路燈壞了"  # normalised: "3号楼 路灯坏了"
    answer = {
        "intent": {"name": "report_streetlight", "confidence": 0.9},
        "entities": [{"entity": "location", "value": "3号楼", "start": 0, "end": 3}],
    }
    result = to_original(text, answer)
    assert result.normalized == "3号楼 路灯坏了"
    assert [(e.entity, text[e.start : e.end]) for e in result.entities] == [("location", "三號樓")]


def test_tfidf_baseline_learns_a_tiny_dataset() -> None:
    baseline = TfidfLogReg()
    results = baseline.fit_predict(TrainingSet(_examples()), ["路燈又壞了", "一股煤气味", "你好呀"])
    assert [r.intent for r in results] == ["report_streetlight", "report_gas", "greet"]
    assert all(0.0 < r.confidence <= 1.0 for r in results)


class Memoriser:
    """A fake system: predicts the intent of the training example sharing the most characters."""

    name = "memoriser"
    has_entities = False

    def __init__(self) -> None:
        self.calls = 0

    def fingerprint(self) -> str:
        return "memoriser v1"

    def fit_predict(self, train: TrainingSet, texts: Sequence[str]) -> list[ParseResult]:
        self.calls += 1
        out = []
        for text in texts:
            best = max(train.examples, key=lambda e: len(set(e.text) & set(text)))
            out.append(ParseResult(text, best.intent, 1.0))
        return out


def test_cross_validation_pools_every_example_and_caches(tmp_path: Path) -> None:
    training = TrainingSet(_examples())
    system = Memoriser()
    cache = PredictionCache(tmp_path)
    report, fold_f1, predicted, scored = cross_validate(system, training, 2, cache, lambda _: None)
    assert scored == training.examples
    assert system.calls == 2 and len(fold_f1) == 2
    assert sum(s.support for s in report.intents.values()) == len(training.examples)
    assert len(predicted) == len(training.examples)
    assert report.accuracy > 0.5
    again = cross_validate(system, training, 2, cache, lambda _: None)
    assert system.calls == 2  # both folds came from the cache
    assert again[0].accuracy == report.accuracy


def test_report_files_and_confusion_png(tmp_path: Path) -> None:
    png = save_confusion_png(["a", "b", "b"], ["a", "a", "b"], tmp_path / "cm.png", "test")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    heldout = _examples()
    tuned, other = Memoriser(), Memoriser()
    other.name = "other"
    results = run(
        [tuned, other], TrainingSet(_examples()), heldout, folds=2, cv_systems={"memoriser"},
        cache=PredictionCache(None), say=lambda _: None,
    )  # fmt: skip
    assert isinstance(results[0], SystemResult) and results[0].cv is not None
    assert results[1].cv is None
    meta = {"command": "c", "date": "d", "machine": "m", "train_examples": 12}
    meta |= {"heldout_examples": 12, "folds": 2}
    paths = write(tmp_path / "out", results, meta, "memoriser")
    text = paths["markdown"].read_text(encoding="utf-8")
    assert "What the tuned pipeline buys" in text and "vs **other**" in text
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert [s["name"] for s in data["systems"]] == ["memoriser", "other"]
    assert (tmp_path / "out" / "confusion-memoriser-cross-validation.png").is_file()
    assert (tmp_path / "out" / "confusion-other-held-out.png").is_file()


def test_evaluate_command_with_the_baseline_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "nlu.yml").write_text(nlu_yaml(_examples()), encoding="utf-8")
    heldout = tmp_path / "heldout.yml"
    heldout.write_text(nlu_yaml([Example("路灯坏了好几天", "report_streetlight")]), "utf-8")
    assert len(read_examples(heldout)) == 1
    parser = argparse.ArgumentParser()
    cli.add_commands(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(
        ["evaluate", "--systems", "tfidf-logreg", "--folds", "2", "--data", str(data),
         "--heldout", str(heldout), "--out", str(tmp_path / "report")]
    )  # fmt: skip
    assert args.func(args) == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    baseline = report["systems"][0]
    assert baseline["heldout"]["accuracy"] == 1.0
    assert len(baseline["cv_fold_macro_f1"]) == 2
    assert (tmp_path / "report" / "confusion-tfidf-logreg-cross-validation.png").is_file()


def test_fold_limit_runs_only_the_first_folds() -> None:
    training = TrainingSet(_examples())
    system = Memoriser()
    cache = PredictionCache(None)
    report, fold_f1, predicted, scored = cross_validate(
        system, training, 2, cache, lambda _: None, fold_limit=1
    )
    first = stratified_folds(training.examples, 2)[0]
    assert system.calls == 1 and len(fold_f1) == 1
    assert scored == [training.examples[i] for i in first]
    assert len(predicted) == len(first) == sum(s.support for s in report.intents.values())


def test_run_without_held_out_cross_validates_only() -> None:
    system = Memoriser()
    results = run(
        [system], TrainingSet(_examples()), [], folds=2, cv_systems={"memoriser"},
        cache=PredictionCache(None), say=lambda _: None,
    )  # fmt: skip
    assert results[0].heldout is None and results[0].cv is not None
    assert list(results[0].labels) == ["cross-validation"]


def test_to_original_reads_a_default_response_selector() -> None:
    answer = {
        "intent": {"name": "faq", "confidence": 0.9},
        "response_selector": {
            "default": {"response": {"intent_response_key": "faq/micro_wish"}, "ranking": []}
        },
    }
    assert to_original("微心愿是啥", answer).intent == "faq/micro_wish"


def test_overlap_f1_counts_a_touching_span_once() -> None:
    gold = [[("location", 0, 13)], [("time", 0, 2)], [("location", 0, 4)]]
    predicted = [
        [("location", 0, 2), ("location", 4, 13)],  # one place cut in two: one hit, one extra
        [("relation", 0, 2)],  # overlaps, but another entity: no hit
        [("location", 4, 6)],  # touches nothing (end exclusive)
    ]
    overlap = entity_overlap_scores(gold, predicted)
    assert (overlap["location"].precision, overlap["location"].recall) == (1 / 3, 1 / 2)
    assert overlap["location"].support == 2
    assert overlap["time"].recall == 0.0 and overlap["relation"].precision == 0.0
    exact = entity_scores(gold, predicted)
    assert exact["location"].f1 == 0.0


def test_score_counts_hard_negatives_and_overlap(tmp_path: Path) -> None:
    examples = [
        Example("路灯修好了 谢谢", "thank"),
        Example("煤气师傅来过了 没事", "out_of_scope"),
        Example("路灯坏了", "report_streetlight", (("device", 0, 2),)),
    ]
    results = [
        ParseResult("路灯修好了 谢谢", "thank", 0.9),
        ParseResult("煤气师傅来过了 没事", "report_gas", 0.6),
        ParseResult("路灯坏了", "report_streetlight", 0.9, (Entity("device", "路", 0, 1),)),
    ]
    listed = tmp_path / "hard.txt"
    listed.write_text("# hard negatives\n路灯修好了 谢谢\n\n煤气师傅来过了 没事\n", "utf-8")
    report = score(examples, results, hard_negatives=read_hard_negatives(listed))
    assert report.hard_negatives is not None
    assert report.hard_negatives.to_dict() == {"total": 2, "right": 1, "not_report": 1}
    assert report.entities["device"].f1 == 0.0 and report.entities_overlap["device"].f1 == 1.0
    assert score(examples, results).hard_negatives is None
    assert "hard negatives: 1/2 intent right" in cli.format_report(report)


CUT = "光华社区12号楼3单元门口的路灯坏了"
# The shared model's answer to CUT (recorded 2026-12): the place cut at 社区, into two spans.
CUT_ANSWER = {
    "text": CUT,
    "intent": {"name": "report_streetlight", "confidence": 0.978},
    "entities": [
        {"entity": "location", "value": "光华", "start": 0, "end": 2},
        {"entity": "location", "value": "12号楼3单元门口", "start": 4, "end": 13},
    ],
}


def test_to_original_grows_a_cut_location_as_the_product_does() -> None:
    result = to_original(CUT, CUT_ANSWER)
    assert [(e.entity, CUT[e.start : e.end]) for e in result.entities] == [
        ("location", "光华社区12号楼3单元门口")
    ]


def _evaluate_tuned(tmp_path: Path, *extra: str) -> dict[str, object]:
    """Run `linli nlu evaluate` on the tuned model only, held-out = CUT, no folds."""
    heldout = tmp_path / "heldout.yml"
    gold = Example(
        CUT,
        "report_streetlight",
        (("location", 0, 13),),
        "[光华社区12号楼3单元门口](location)的路灯坏了",
    )
    heldout.write_text(nlu_yaml([gold]), "utf-8")
    parser = argparse.ArgumentParser()
    cli.add_commands(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(
        ["evaluate", "--systems", "tuned", "--folds", "0", "--data",
         str(nlu_paths.PROJECT_DIR / "data"), "--heldout", str(heldout),
         "--out", str(tmp_path / "report"), *extra]
    )  # fmt: skip
    assert args.func(args) == 0
    data = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_evaluate_reads_the_held_out_set_through_the_server_and_grows_places(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    @contextmanager
    def recorded_server(url: str | None = None) -> Iterator[list[str]]:
        yield ["http://recorded.invalid"]

    async def recorded_parse(self: NLUClient, text: str) -> ParseResult:
        assert text == CUT  # the normalised text, as understand() sends it
        return ParseResult.from_rasa(text, CUT_ANSWER)

    monkeypatch.setattr(cli, "nlu_server", recorded_server)
    monkeypatch.setattr(cli, "served_model", lambda url: "recorded.tar.gz")
    monkeypatch.setattr(NLUClient, "parse", recorded_parse)
    report = _evaluate_tuned(tmp_path)
    tuned = report["systems"][0]  # type: ignore[index]
    assert tuned["heldout"]["entities"]["location"]["f1"] == 1.0
    assert "recorded.tar.gz" in report["meta"]["tuned_heldout_read_by"]  # type: ignore[index]


@pytest.mark.rasa
def test_evaluate_grows_a_location_the_real_model_cuts(tmp_path: Path, rasa_url: str) -> None:
    report = _evaluate_tuned(tmp_path, "--url", rasa_url)
    tuned = report["systems"][0]  # type: ignore[index]
    assert tuned["heldout"]["entities"]["location"]["f1"] == 1.0
