"""Held-out numbers of one trained model, the figures staff compare before switching models.

The model is loaded by the Rasa venv in a child process (nlu/evaluate_rasa_worker.py), as
`linli nlu evaluate` does; awaiting never blocks the event loop. Numbers are cached beside
the model, keyed by its file name (the training hash) and a digest of the held-out file.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nlu import paths
from nlu.client import ParseResult
from nlu.evaluate import Example, prf, read_examples, score
from nlu.evaluate_systems import parse_command, parsed_results
from nlu.rasa_process import run_child
from nlu.train import TrainingError

logger = logging.getLogger(__name__)

WATCHED_INTENT = "report_gas"  # a missed gas report is the costly mistake: its recall is shown


def model_key(model: Path) -> str:
    """The cache key of a model: its file name without .tar.gz (the training hash)."""
    return model.name.removesuffix(".tar.gz")


def cache_file(model: Path, heldout: Path) -> Path:
    """Where the numbers of `model` on `heldout` are kept."""
    digest = hashlib.sha256(heldout.read_bytes()).hexdigest()[:16]
    return model.parent / f"{model_key(model)}.heldout-{digest}.json"


def cached_scores(model: Path, heldout: Path = paths.HELDOUT_FILE) -> dict[str, Any] | None:
    """The cached numbers of a model on the held-out file, or None."""
    try:
        data = json.loads(cache_file(model, heldout).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _entity_f1(examples: Sequence[Example], results: Sequence[ParseResult]) -> float:
    """F1 over every entity span (name, start and end must all match), micro-averaged."""
    tp = fp = fn = 0
    for example, result in zip(examples, results, strict=True):
        gold = set(example.entities)
        found = {(e.entity, e.start, e.end) for e in result.entities}
        tp, fp, fn = tp + len(gold & found), fp + len(found - gold), fn + len(gold - found)
    return prf(tp, fp, fn).f1


def summary(examples: Sequence[Example], results: Sequence[ParseResult]) -> dict[str, Any]:
    """The numbers shown for a model: accuracy, macro-F1, per-intent F1, entity F1, gas recall."""
    report = score(examples, results)
    watched = report.intents.get(WATCHED_INTENT)
    return {
        "examples": len(examples),
        "accuracy": round(report.accuracy, 4),
        "macro_f1": round(report.macro_f1, 4),
        "entity_f1": round(_entity_f1(examples, results), 4),
        "report_gas_recall": round(watched.recall, 4) if watched else None,
        "intent_f1": {name: round(s.f1, 4) for name, s in sorted(report.intents.items())},
        "entities": {name: round(s.f1, 4) for name, s in sorted(report.entities.items())},
    }


async def score_model(
    model: Path, heldout: Path = paths.HELDOUT_FILE, project: Path = paths.PROJECT_DIR
) -> dict[str, Any]:
    """Score a model file on the held-out file (cached); `project` is where it was trained."""
    cached = cached_scores(model, heldout)
    if cached is not None:
        logger.info("held-out numbers of %s from the cache", model.name)
        return cached
    examples = read_examples(heldout)
    if not examples:
        raise TrainingError(f"no examples in {heldout}")
    texts = [e.text for e in examples]
    with tempfile.TemporaryDirectory(prefix="linli-heldout-") as tmp:
        scratch = Path(tmp)
        command, log = await asyncio.to_thread(parse_command, model, texts, scratch)
        code = await run_child(command, project, log)
        if code != 0:
            raise TrainingError(f"parsing with {model.name} failed:\n{paths.log_tail(log)}")
        results = await asyncio.to_thread(parsed_results, model, texts, scratch)
    numbers = summary(examples, results)
    target = cache_file(model, heldout)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(numbers, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(partial, target)
    logger.info("held-out numbers of %s: macro-F1 %.3f", model.name, numbers["macro_f1"])
    return numbers
