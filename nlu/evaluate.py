"""Evaluation maths for the NLU: examples, P/R/F1, macro-F1, entity spans, confusions, folds."""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nlu.client import ParseResult

# Rasa's inline annotations: [text](entity), [text](entity:value), [text]{"entity": ...}.
_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\](?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)|(?P<json>\{[^}]+?\}))"
)

Span = tuple[str, int, int]  # (entity, start, end) with end exclusive


@dataclass(frozen=True)
class Example:
    """One annotated example: plain text, gold intent, gold entity spans, annotated source."""

    text: str
    intent: str
    entities: tuple[Span, ...] = ()
    source: str = field(default="", compare=False)  # the annotated line, for re-training


def parse_annotated(annotated: str) -> tuple[str, tuple[Span, ...]]:
    """Strip Rasa entity annotations; return the text and (entity, start, end) spans."""
    text_parts: list[str] = []
    spans: list[Span] = []
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
            source = line[2:].strip()
            text, spans = parse_annotated(source)
            if text:
                examples.append(
                    Example(text=text, intent=str(intent), entities=spans, source=source)
                )
    return examples


@dataclass
class Scores:
    """Precision, recall, F1 and support for one label."""

    precision: float
    recall: float
    f1: float
    support: int


def prf(tp: int, fp: int, fn: int) -> Scores:
    """Compute precision/recall/F1 from counts (0 where undefined); support is tp + fn."""
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
    return {label: prf(tp[label], fp[label], fn[label]) for label in labels}


def macro_f1(scores: dict[str, Scores]) -> float:
    """Unweighted mean F1 over the labels of `scores` (gold ∪ predicted, like scikit-learn)."""
    return sum(s.f1 for s in scores.values()) / len(scores) if scores else 0.0


def entity_scores(
    gold: Sequence[Sequence[Span]], predicted: Sequence[Sequence[Span]]
) -> dict[str, Scores]:
    """Per-entity P/R/F1 where a prediction counts only when name, start and end all match."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for gold_spans, pred_spans in zip(gold, predicted, strict=True):
        g, p = set(gold_spans), set(pred_spans)
        tp.update(name for name, _, _ in g & p)
        fp.update(name for name, _, _ in p - g)
        fn.update(name for name, _, _ in g - p)
    names = sorted(set(tp) | set(fp) | set(fn))
    return {n: prf(tp[n], fp[n], fn[n]) for n in names}


def _overlaps(a: Span, b: Span) -> bool:
    """True when two spans of the same entity share at least one character."""
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def entity_overlap_scores(
    gold: Sequence[Sequence[Span]], predicted: Sequence[Sequence[Span]]
) -> dict[str, Scores]:
    """Per-entity P/R/F1 where a prediction hits when it overlaps a gold span of that entity.

    Matching is one to one (each gold span takes at most one prediction, left to right), so a
    gold span cut in two counts one hit and one false positive.
    """
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for gold_spans, pred_spans in zip(gold, predicted, strict=True):
        unmatched = sorted(set(gold_spans), key=lambda s: (s[1], s[2], s[0]))
        for span in sorted(set(pred_spans), key=lambda s: (s[1], s[2], s[0])):
            hit = next((g for g in unmatched if _overlaps(g, span)), None)
            if hit is None:
                fp[span[0]] += 1
            else:
                tp[span[0]] += 1
                unmatched.remove(hit)
        fn.update(name for name, _, _ in unmatched)
    names = sorted(set(tp) | set(fp) | set(fn))
    return {n: prf(tp[n], fp[n], fn[n]) for n in names}


@dataclass(frozen=True)
class HardNegatives:
    """How the listed hard negatives (mention a thing, report nothing) were read."""

    total: int
    right: int  # predicted intent equals the gold intent
    not_report: int  # predicted intent is not a report_* intent

    def to_dict(self) -> dict[str, int]:
        """Return a JSON-safe dict."""
        return vars(self).copy()


def hard_negative_counts(
    examples: Sequence[Example], results: Sequence[ParseResult], texts: Collection[str]
) -> HardNegatives | None:
    """Count the examples whose text is a listed hard negative; None when none is listed."""
    wanted = set(texts)
    pairs = [(e, r) for e, r in zip(examples, results, strict=True) if e.text in wanted]
    if not pairs:
        return None
    right = sum(e.intent == r.intent for e, r in pairs)
    not_report = sum(not r.intent.startswith("report_") for _, r in pairs)
    return HardNegatives(len(pairs), right, not_report)


def read_hard_negatives(path: Path) -> list[str]:
    """Read a hard-negatives file: one message per line, blank lines and # comments skipped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def confusion_matrix(
    gold: Sequence[str], predicted: Sequence[str]
) -> tuple[list[str], list[list[int]]]:
    """Return (labels, matrix) with matrix[i][j] = count of gold labels[i] predicted labels[j]."""
    labels = sorted(set(gold) | set(predicted))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        matrix[index[g]][index[p]] += 1
    return labels, matrix


def confused_pairs(
    gold: Sequence[str], predicted: Sequence[str], top: int = 10
) -> list[tuple[str, str, int]]:
    """Return the most frequent (gold, predicted, count) mistakes, most frequent first."""
    counts = Counter((g, p) for g, p in zip(gold, predicted, strict=True) if g != p)
    return [(g, p, n) for (g, p), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:top]


@dataclass
class Report:
    """Scores of one system on one set: per-intent, accuracy, macro-F1, entities, mistakes."""

    intents: dict[str, Scores]
    accuracy: float
    macro_f1: float
    entities: dict[str, Scores] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    entities_overlap: dict[str, Scores] = field(default_factory=dict)
    hard_negatives: HardNegatives | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "intents": {k: vars(v) for k, v in self.intents.items()},
            "entities": {k: vars(v) for k, v in self.entities.items()},
            "entities_overlap": {k: vars(v) for k, v in self.entities_overlap.items()},
            "hard_negatives": self.hard_negatives.to_dict() if self.hard_negatives else None,
            "confused_pairs": [list(c) for c in self.confusions],
            "errors": self.errors,
        }


def score(
    examples: Sequence[Example],
    results: Sequence[ParseResult],
    with_entities: bool = True,
    hard_negatives: Collection[str] = (),
) -> Report:
    """Score predictions against gold examples: intents, entity spans (exact and overlap)."""
    gold = [e.intent for e in examples]
    predicted = [r.intent for r in results]
    intents = classification_scores(gold, predicted)
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    accuracy = correct / len(gold) if gold else 0.0
    pred_spans = [tuple((e.entity, e.start, e.end) for e in r.entities) for r in results]
    gold_spans = [e.entities for e in examples]
    entities = entity_scores(gold_spans, pred_spans) if with_entities else {}
    overlap = entity_overlap_scores(gold_spans, pred_spans) if with_entities else {}
    errors: list[dict[str, Any]] = []
    for example, result, spans in zip(examples, results, pred_spans, strict=True):
        entity_wrong = with_entities and set(example.entities) != set(spans)
        if example.intent != result.intent or entity_wrong:
            errors.append(
                {
                    "text": example.text,
                    "intent": example.intent,
                    "predicted": result.intent,
                    "confidence": round(result.confidence, 4),
                    "entities": sorted(example.entities),
                    "predicted_entities": sorted(spans),
                }
            )
    return Report(
        intents,
        accuracy,
        macro_f1(intents),
        entities,
        errors,
        confused_pairs(gold, predicted),
        overlap,
        hard_negative_counts(examples, results, hard_negatives),
    )


def evaluate_examples(examples: Sequence[Example], results: Sequence[ParseResult]) -> Report:
    """Score predictions against gold examples (intents and exact entity spans)."""
    return score(examples, results)


def stratified_folds(examples: Sequence[Example], k: int, seed: int = 7) -> list[list[int]]:
    """Split example indexes into k folds, each intent dealt round-robin after a seeded shuffle."""
    if k < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    by_intent: dict[str, list[int]] = defaultdict(list)
    for i, example in enumerate(examples):
        by_intent[example.intent].append(i)
    rng = random.Random(seed)
    folds: list[list[int]] = [[] for _ in range(k)]
    offset = 0
    for intent in sorted(by_intent):
        members = by_intent[intent]
        rng.shuffle(members)
        for j, i in enumerate(members):
            folds[(offset + j) % k].append(i)
        offset += len(members)  # small intents do not all start in fold 0
    return [sorted(f) for f in folds]
