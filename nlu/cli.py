"""`linli nlu ...` commands: train, predict and evaluate."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nlu import paths
from nlu.client import NLUClient, NLUUnavailable, ParseResult
from nlu.rasa_process import RasaServer, RasaServerError, server_ready
from nlu.train import TrainingError, train

logger = logging.getLogger(__name__)

DEFAULT_NLU_URL = "http://127.0.0.1:5005"
_CONCURRENCY = 4
# Rasa's inline annotations: [text](entity), [text](entity:value), [text]{"entity": ...}.
_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\](?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)|(?P<json>\{[^}]+?\}))"
)


def _say(message: str) -> None:
    """Print a progress line to stderr (stdout carries the command's output)."""
    print(f"linli: {message}", file=sys.stderr, flush=True)


@contextmanager
def nlu_server(url: str | None = None) -> Iterator[list[str]]:
    """Yield the URLs of ready Rasa servers, starting one on a free port if none answers."""
    wanted = url or os.environ.get("LINLI_NLU_URL") or DEFAULT_NLU_URL
    urls = [u.strip().rstrip("/") for u in wanted.split(",") if u.strip()]
    ready = [u for u in urls if server_ready(u)]
    if ready:
        yield ready
        return
    _say(f"no NLU server answers at {', '.join(urls)}; starting one (training first if needed)")
    model = train()
    with RasaServer(model) as server:
        yield [server.url]


async def _parse_all(urls: Sequence[str], texts: Sequence[str]) -> list[ParseResult]:
    """Parse texts through the given servers, a few at a time, keeping their order."""
    limit = asyncio.Semaphore(_CONCURRENCY)
    async with NLUClient(urls, timeout=30.0) as client:

        async def one(text: str) -> ParseResult:
            async with limit:
                return await client.parse(text)

        return list(await asyncio.gather(*(one(t) for t in texts)))


def cmd_train(args: argparse.Namespace) -> int:
    """Train the model unless the cached one matches the data."""
    try:
        model = train(force=args.force)
    except TrainingError as exc:
        _say(str(exc))
        return 1
    print(model)
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Read texts from stdin, one per line; write one JSON line per text."""
    texts = [line.strip() for line in sys.stdin if line.strip()]
    if not texts:
        return 0
    try:
        with nlu_server(args.url) as urls:
            results = asyncio.run(_parse_all(urls, texts))
    except (TrainingError, RasaServerError, NLUUnavailable) as exc:
        _say(str(exc))
        return 1
    for result in results:
        row = result.to_dict()
        row.pop("ranking", None)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """One annotated example: plain text, gold intent and gold entity spans."""

    text: str
    intent: str
    entities: tuple[tuple[str, int, int], ...] = ()


def parse_annotated(annotated: str) -> tuple[str, tuple[tuple[str, int, int], ...]]:
    """Strip Rasa entity annotations; return the text and (entity, start, end) spans."""
    text_parts: list[str] = []
    spans: list[tuple[str, int, int]] = []
    pos = 0
    length = 0
    for match in _ANNOTATION.finditer(annotated):
        before = annotated[pos : match.start()]
        text_parts.append(before)
        length += len(before)
        surface = match.group("text")
        entity = match.group("entity")
        if entity is None:
            try:
                entity = json.loads(match.group("json")).get("entity")
            except (ValueError, AttributeError):
                entity = None
        if entity:
            spans.append((entity.strip(), length, length + len(surface)))
        text_parts.append(surface)
        length += len(surface)
        pos = match.end()
    text_parts.append(annotated[pos:])
    return "".join(text_parts), tuple(spans)


def read_examples(path: Path) -> list[Example]:
    """Read a Rasa NLU YAML file (`nlu: - intent: ... examples: |`) into examples."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: list[Example] = []
    for block in data.get("nlu") or ():
        intent = block.get("intent") if isinstance(block, dict) else None
        if not intent:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if not line.startswith("- "):
                continue
            text, spans = parse_annotated(line[2:].strip())
            if text:
                examples.append(Example(text=text, intent=str(intent), entities=spans))
    return examples


@dataclass
class Scores:
    """Precision, recall, F1 and support for one label."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    """Evaluation report: per-label intent scores, accuracy, macro-F1 and entity scores."""

    intents: dict[str, Scores]
    accuracy: float
    macro_f1: float
    entities: dict[str, Scores] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "intents": {k: vars(v) for k, v in self.intents.items()},
            "entities": {k: vars(v) for k, v in self.entities.items()},
            "errors": self.errors,
        }


def _prf(tp: int, fp: int, fn: int) -> Scores:
    """Compute precision/recall/F1 from counts (0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, tp + fn)


def classification_scores(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Scores]:
    """Per-label P/R/F1 over the union of gold and predicted labels (like scikit-learn)."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
        if g == p:
            tp[g] += 1
        else:
            fp[p] += 1
            fn[g] += 1
    labels = sorted(set(gold) | set(predicted))
    return {label: _prf(tp[label], fp[label], fn[label]) for label in labels}


def evaluate_examples(examples: Sequence[Example], results: Sequence[ParseResult]) -> Report:
    """Score predictions against gold examples (intents and exact entity spans)."""
    gold = [e.intent for e in examples]
    predicted = [r.intent for r in results]
    intents = classification_scores(gold, predicted)
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    accuracy = correct / len(gold) if gold else 0.0
    macro_f1 = sum(s.f1 for s in intents.values()) / len(intents) if intents else 0.0
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    for example, result in zip(examples, results, strict=True):
        gold_spans = set(example.entities)
        pred_spans = {(e.entity, e.start, e.end) for e in result.entities}
        for name, *_ in gold_spans & pred_spans:
            tp[name] += 1
        for name, *_ in pred_spans - gold_spans:
            fp[name] += 1
        for name, *_ in gold_spans - pred_spans:
            fn[name] += 1
        if example.intent != result.intent or gold_spans != pred_spans:
            errors.append(
                {
                    "text": example.text,
                    "intent": example.intent,
                    "predicted": result.intent,
                    "confidence": round(result.confidence, 4),
                    "entities": sorted(gold_spans),
                    "predicted_entities": sorted(pred_spans),
                }
            )
    entity_names = sorted(set(tp) | set(fp) | set(fn))
    entities = {n: _prf(tp[n], fp[n], fn[n]) for n in entity_names}
    return Report(intents, accuracy, macro_f1, entities, errors)


def format_report(report: Report) -> str:
    """Render a report as a plain-text table."""
    width = max([len(k) for k in [*report.intents, *report.entities]] + [12])
    lines = [f"{'intent':<{width}}  precision  recall     f1  support"]
    for name, s in report.intents.items():
        lines.append(
            f"{name:<{width}}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  {s.support:7d}"
        )
    lines.append("")
    lines.append(f"accuracy {report.accuracy:.3f}   macro-F1 {report.macro_f1:.3f}")
    if report.entities:
        lines.append("")
        lines.append(f"{'entity':<{width}}  precision  recall     f1  support")
        for name, s in report.entities.items():
            lines.append(
                f"{name:<{width}}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  {s.support:7d}"
            )
    lines.append(f"\n{len(report.errors)} example(s) with a wrong intent or entity")
    return "\n".join(lines)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score the held-out set through a Rasa server and print per-intent P/R/F1."""
    heldout: Path = args.heldout
    if not heldout.is_file():
        _say(f"held-out file {heldout} not found")
        return 1
    examples = read_examples(heldout)
    if not examples:
        _say(f"no examples in {heldout}")
        return 1
    try:
        with nlu_server(args.url) as urls:
            results = asyncio.run(_parse_all(urls, [e.text for e in examples]))
    except (TrainingError, RasaServerError, NLUUnavailable) as exc:
        _say(str(exc))
        return 1
    report = evaluate_examples(examples, results)
    print(format_report(report))
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(
            json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        _say(f"report written to {args.report}")
    return 0


def add_commands(subparsers: Any) -> None:
    """Register `train`, `predict` and `evaluate` on an argparse subparsers object."""
    url_help = f"Rasa server URL(s), comma-separated (default: $LINLI_NLU_URL or {DEFAULT_NLU_URL})"
    p = subparsers.add_parser("train", help="train the NLU model (skips when data is unchanged)")
    p.add_argument("--force", action="store_true", help="train even if a cached model matches")
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser(
        "predict", help="read texts one per line on stdin, write one JSON line per text"
    )
    p.add_argument("--url", default=None, help=url_help)
    p.set_defaults(func=cmd_predict)

    p = subparsers.add_parser("evaluate", help="score the held-out set: per-intent P/R/F1")
    p.add_argument("--heldout", type=Path, default=paths.HELDOUT_FILE, help="Rasa NLU YAML file")
    p.add_argument("--url", default=None, help=url_help)
    p.add_argument("--report", type=Path, default=None, help="also write a JSON report here")
    p.set_defaults(func=cmd_evaluate)
