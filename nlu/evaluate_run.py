"""Run the comparison: k-fold cross-validation and held-out scores for each system, cached."""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from nlu.client import Entity, ParseResult
from nlu.evaluate import Example, Report, score, stratified_folds
from nlu.evaluate_systems import System, TrainingSet, predict_with_model

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


class Reader(Protocol):
    """Reads held-out texts some other way than a system's model file (evaluate_server)."""

    def fingerprint(self) -> str:
        """Return a string that changes whenever the readings would."""

    def __call__(self, texts: Sequence[str]) -> list[ParseResult]:
        """Read the texts, in order."""


# The code that turns a model's answer into what the product reads (nlu/understand.reading):
# cached predictions are keyed by it, so a change to the place grammar is never scored stale.
READING_SOURCES = ("understand.py", "normalize.py", "places.py")


def reading_fingerprint() -> str:
    """Digest of the reading code (READING_SOURCES)."""
    digest = hashlib.sha256()
    for name in READING_SOURCES:
        digest.update((Path(__file__).resolve().parent / name).read_bytes())
    return digest.hexdigest()


@dataclass
class SystemResult:
    """One system's reports: cross-validation (pooled over folds) and held-out."""

    name: str
    cv: Report | None = None
    cv_fold_macro_f1: list[float] = field(default_factory=list)
    heldout: Report | None = None
    train_seconds: list[float] = field(default_factory=list)
    # "held-out" / "cross-validation" -> (gold intents, predicted intents), for the PNGs
    labels: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        folds = self.cv_fold_macro_f1
        return {
            "name": self.name,
            "cv": self.cv.to_dict() if self.cv else None,
            "cv_fold_macro_f1": folds,
            "cv_fold_macro_f1_sd": statistics.stdev(folds) if len(folds) > 1 else None,
            "heldout": self.heldout.to_dict() if self.heldout else None,
            "train_seconds": [round(s, 1) for s in self.train_seconds],
        }


def _result_to_json(result: ParseResult) -> dict[str, Any]:
    """Serialise a prediction for the cache."""
    return result.to_dict()


def _result_from_json(data: dict[str, Any]) -> ParseResult:
    """Read a cached prediction back."""
    return ParseResult(
        text=data["text"],
        intent=data["intent"],
        confidence=float(data["confidence"]),
        entities=tuple(Entity(**e) for e in data["entities"]),
        ranking=tuple((str(n), float(c)) for n, c in data.get("ranking", ())),
        normalized=data.get("normalized"),
    )


class PredictionCache:
    """Predictions on disk, keyed by system fingerprint, training sources and test texts."""

    def __init__(self, folder: Path | None) -> None:
        """Use `folder` (None disables caching)."""
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(system: System, train: TrainingSet, texts: Sequence[str], reader: str = "") -> str:
        """Digest of everything that decides the predictions (`reader`: who parsed them)."""
        digest = hashlib.sha256(system.fingerprint().encode())
        digest.update(f"{reading_fingerprint()}\0{reader}\0".encode())
        for example in train.examples:
            digest.update(f"{example.intent}\0{example.source or example.text}\n".encode())
        digest.update(json.dumps(train.extras, sort_keys=True, ensure_ascii=False).encode())
        for text in texts:
            digest.update(f"{text}\n".encode())
        return digest.hexdigest()[:24]  # not the system's name: a renamed config still hits

    def get(self, key: str) -> list[ParseResult] | None:
        """Return cached predictions or None."""
        path = self.folder / f"{key}.json" if self.folder else None
        if path is None or not path.is_file():
            return None
        return [_result_from_json(r) for r in json.loads(path.read_text(encoding="utf-8"))]

    def put(self, key: str, results: Sequence[ParseResult]) -> None:
        """Store predictions."""
        if self.folder is not None:
            data = [_result_to_json(r) for r in results]
            (self.folder / f"{key}.json").write_text(json.dumps(data, ensure_ascii=False))


def predict(
    system: System,
    train: TrainingSet,
    texts: Sequence[str],
    cache: PredictionCache,
    model: Callable[[], Path] | None = None,
    reader: Reader | None = None,
) -> list[ParseResult]:
    """Predict `texts` after training on `train`, from the cache when possible.

    `model`, when given, returns an already trained model for exactly this training set
    (the hash-cached project model), so the held-out score needs no extra training.
    `reader`, when given, reads the texts instead (the running server, as the product does).
    """
    tag = reader.fingerprint() if reader is not None else ""
    key = cache.key(system, train, texts, tag)
    cached = cache.get(key)
    if cached is not None:
        return cached
    if reader is not None:
        results = reader(texts)
    elif model is not None:
        with tempfile.TemporaryDirectory(prefix="linli-eval-") as scratch:
            results = predict_with_model(model(), texts, Path(scratch))
    else:
        results = system.fit_predict(train, texts)
    cache.put(key, results)
    return results


def cross_validate(
    system: System,
    train: TrainingSet,
    folds: int,
    cache: PredictionCache,
    say: Progress,
    fold_limit: int | None = None,
) -> tuple[Report, list[float], list[str], list[Example]]:
    """Stratified k-fold CV: pooled report, each fold's macro-F1, predictions, scored examples.

    `fold_limit` runs only the first folds of the k-fold split (each still trained on the
    other k-1 folds); the report then pools the folds that ran.
    """
    examples = train.examples
    predictions: list[ParseResult | None] = [None] * len(examples)
    fold_f1: list[float] = []
    split = stratified_folds(examples, folds)
    for k, test_idx in enumerate(split[:fold_limit]):
        held = set(test_idx)
        fold_train = TrainingSet([e for i, e in enumerate(examples) if i not in held], train.extras)
        fold_test = [examples[i] for i in test_idx]
        started = time.monotonic()
        results = predict(system, fold_train, [e.text for e in fold_test], cache)
        say(f"{system.name}: fold {k + 1}/{folds} done in {time.monotonic() - started:.0f} s")
        fold_f1.append(score(fold_test, results, system.has_entities).macro_f1)
        for i, result in zip(test_idx, results, strict=True):
            predictions[i] = result
    scored = [e for e, p in zip(examples, predictions, strict=True) if p is not None]
    done = [p for p in predictions if p is not None]
    report = score(scored, done, system.has_entities)
    return report, fold_f1, [p.intent for p in done], scored


def run(
    systems: Sequence[System],
    train: TrainingSet,
    heldout: Sequence[Example],
    *,
    folds: int,
    cv_systems: set[str],
    cache: PredictionCache,
    say: Progress,
    models: dict[str, Callable[[], Path]] | None = None,
    fold_limit: int | None = None,
    readers: Mapping[str, Reader] | None = None,
    hard_negatives: Sequence[str] = (),
) -> list[SystemResult]:
    """Score each system on the held-out set (if any), and by k-fold CV if in `cv_systems`.

    `readers` names systems whose held-out texts are read by something else than their own
    model file (the running server); `hard_negatives` are held-out texts counted apart.
    """
    results = []
    for system in systems:
        result = SystemResult(system.name)
        if heldout:
            say(f"{system.name}: held-out ({len(heldout)} examples)")
            texts = [e.text for e in heldout]
            model = (models or {}).get(system.name)
            reader = (readers or {}).get(system.name)
            predictions = predict(system, train, texts, cache, model, reader)
            result.heldout = score(heldout, predictions, system.has_entities, hard_negatives)
            result.labels["held-out"] = (
                [e.intent for e in heldout],
                [p.intent for p in predictions],
            )
        if system.name in cv_systems and folds >= 2:
            say(f"{system.name}: {folds}-fold cross-validation ({len(train.examples)} examples)")
            result.cv, result.cv_fold_macro_f1, cv_predicted, scored = cross_validate(
                system, train, folds, cache, say, fold_limit
            )
            result.labels["cross-validation"] = ([e.intent for e in scored], cv_predicted)
        result.train_seconds = list(getattr(system, "train_seconds", []))
        results.append(result)
    return results
