"""Write the evaluation report: JSON, Markdown, and confusion matrices as PNG (matplotlib)."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nlu.evaluate import confusion_matrix
from nlu.evaluate_run import SystemResult

TARGETS = (
    "held-out macro-F1 ≥ 0.93, accuracy ≥ 0.95, report_gas recall 1.0, "
    "entity F1 ≥ 0.85 location and ≥ 0.8 others, training < 5 min"
)


def machine() -> str:
    """Describe this machine: CPU model, cores, memory, Python."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown memory"
    return f"{cpu}, {os.cpu_count()} cores, {memory}, {platform.system()} {platform.release()}"


def save_confusion_png(
    gold: Sequence[str], predicted: Sequence[str], path: Path, title: str
) -> Path:
    """Draw the confusion matrix (rows gold, columns predicted, counts in cells) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, matrix = confusion_matrix(gold, predicted)
    size = max(6.0, 0.42 * len(labels) + 2.5)
    fig, ax = plt.subplots(figsize=(size, size))
    try:
        normalised = [[c / (sum(row) or 1) for c in row] for row in matrix]
        ax.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(title, fontsize=9)
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                if count:
                    colour = "white" if normalised[i][j] > 0.5 else "black"
                    ax.text(j, i, str(count), ha="center", va="center", fontsize=6, color=colour)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return path


def _fmt(value: float | None) -> str:
    """Three decimals or a dash."""
    return "–" if value is None else f"{value:.3f}"


def _summary_rows(results: Sequence[SystemResult]) -> list[str]:
    """One Markdown row per system."""
    rows = [
        "| system | CV accuracy | CV macro-F1 (fold sd) | held-out accuracy | held-out macro-F1 "
        "| report_gas recall | location F1 | train s (each) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cv, ho = r.cv, r.heldout
        sd = r.to_dict()["cv_fold_macro_f1_sd"]
        cv_f1 = f"{cv.macro_f1:.3f} (±{sd:.3f})" if cv and sd is not None else "–"
        gas = ho.intents.get("report_gas") if ho else None
        loc = ho.entities.get("location") if ho else None
        secs = ", ".join(f"{s:.0f}" for s in r.train_seconds) or "cached"
        rows.append(
            f"| {r.name} | {_fmt(cv.accuracy if cv else None)} | {cv_f1} "
            f"| {_fmt(ho.accuracy if ho else None)} | {_fmt(ho.macro_f1 if ho else None)} "
            f"| {_fmt(gas.recall if gas else None)} | {_fmt(loc.f1 if loc else None)} | {secs} |"
        )
    return rows


def _buys(results: Sequence[SystemResult], tuned: str) -> list[str]:
    """Sentences: what the tuned pipeline gains over each other system."""
    best = next((r for r in results if r.name == tuned), None)
    if best is None or best.heldout is None:
        return []
    lines = []
    for other in results:
        if other.name == tuned or other.heldout is None:
            continue
        gain_f1 = best.heldout.macro_f1 - other.heldout.macro_f1
        gain_acc = best.heldout.accuracy - other.heldout.accuracy
        line = f"- vs **{other.name}**: held-out macro-F1 {gain_f1:+.3f}, accuracy {gain_acc:+.3f}"
        if best.cv and other.cv:
            line += f"; cross-validated macro-F1 {best.cv.macro_f1 - other.cv.macro_f1:+.3f}"
        lines.append(line + ".")
    return lines


def _scores_table(title: str, scores: dict[str, Any]) -> list[str]:
    """A P/R/F1/support table."""
    rows = [f"| {title} | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for name, s in scores.items():
        rows.append(f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.support} |")
    return rows


def _entity_table(exact: dict[str, Any], overlap: dict[str, Any]) -> list[str]:
    """Per-entity exact-span P/R/F1 and the overlap F1 (a prediction touching the gold span)."""
    rows = [
        "| entity | precision | recall | F1 (exact) | F1 (overlap) | support |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in exact.items():
        over = overlap.get(name)
        rows.append(
            f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} "
            f"| {_fmt(over.f1 if over else None)} | {s.support} |"
        )
    return rows


def markdown(
    results: Sequence[SystemResult], meta: dict[str, Any], tuned: str, pngs: dict[str, str]
) -> str:
    """Render the whole report as Markdown."""
    out = [
        "# NLU evaluation report",
        "",
        f"- command: `{meta['command']}`",
        f"- date: {meta['date']}; machine: {meta['machine']}",
        f"- training examples: {meta['train_examples']}; held-out examples: "
        f"{meta['heldout_examples']}; folds: {meta['folds']} (stratified by intent, seed 7)"
        + (
            f", of which the first {meta['folds_run']} ran"
            if meta.get("folds_run", meta["folds"]) < meta["folds"]
            else ""
        ),
        "- every test text is read as the service reads it (`nlu/understand.py`: normalised, "
        "parsed, offsets mapped back, the location grown to the whole place as said); entity "
        "spans are scored exactly (name, start, end) in the original text, and by overlap "
        "(a prediction that shares a character with a gold span of the same entity, one to one)",
        f"- tuned held-out read by: {meta.get('tuned_heldout_read_by', 'the model file')}",
        "- macro-F1 averages over gold ∪ predicted labels (so `nlu_fallback` predictions count), "
        "like scikit-learn",
        "",
        "## Summary",
        "",
        *_summary_rows(results),
        "",
        "## What the tuned pipeline buys",
        "",
        *(_buys(results, tuned) or ["- (no baseline scored)"]),
        "",
        f"Targets: {TARGETS}.",
    ]
    for r in results:
        for label, report in (("held-out", r.heldout), ("cross-validation", r.cv)):
            if report is None:
                continue
            out += ["", f"## {r.name}: {label}", ""]
            out += [f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}", ""]
            if r.name == tuned:
                out += [*_scores_table("intent", report.intents), ""]
            if report.entities:
                out += [*_entity_table(report.entities, report.entities_overlap), ""]
            hard = report.hard_negatives
            if hard is not None:
                out += [
                    f"Hard negatives: {hard.right}/{hard.total} with the right intent, "
                    f"{hard.not_report}/{hard.total} not read as a report.",
                    "",
                ]
            pairs = ", ".join(f"{g} → {p} ({n})" for g, p, n in report.confusions[:8])
            out.append(f"Most confused (gold → predicted): {pairs or 'none'}.")
            png = pngs.get(f"{r.name}-{label}")
            if png:
                out += ["", f"Confusion matrix: [{png}]({png})"]
    return "\n".join(out) + "\n"


def write(
    out_dir: Path,
    results: Sequence[SystemResult],
    meta: dict[str, Any],
    tuned: str,
) -> dict[str, Path]:
    """Write report.json, report.md and one confusion PNG per (system, set); return paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs: dict[str, str] = {}
    for result in results:
        for label, (gold, predicted) in result.labels.items():
            key = f"{result.name}-{label}"
            name = f"confusion-{key}.png"
            save_confusion_png(gold, predicted, out_dir / name, f"{key} (rows: gold)")
            pngs[key] = name
    report = {"meta": meta, "systems": [r.to_dict() for r in results], "confusion_png": pngs}
    json_path = out_dir / "report.json"
    json_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    md_path = out_dir / "report.md"
    md_path.write_text(markdown(results, meta, tuned, pngs), encoding="utf-8")
    return {"json": json_path, "markdown": md_path, **{k: out_dir / v for k, v in pngs.items()}}
