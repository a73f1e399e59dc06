"""`linli nlu ...` commands: train, predict and evaluate."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from nlu import paths
from nlu.client import NLUUnavailable, ParseResult
from nlu.evaluate import (  # re-exported: the evaluation maths used to live here
    Example,
    Report,
    Scores,
    classification_scores,
    evaluate_examples,
    parse_annotated,
    read_examples,
    read_hard_negatives,
)
from nlu.evaluate_report import machine, write
from nlu.evaluate_run import PredictionCache, run
from nlu.evaluate_server import ServerReader, read_all, served_model
from nlu.evaluate_systems import (
    RASA_DEFAULT_CONFIG,
    RasaPipeline,
    System,
    TfidfLogReg,
    read_training,
)
from nlu.rasa_process import RasaServer, RasaServerError, server_ready
from nlu.train import TrainingError, train

logger = logging.getLogger(__name__)

DEFAULT_NLU_URL = "http://127.0.0.1:5005"
__all__ = [
    "Example",
    "Report",
    "Scores",
    "add_commands",
    "classification_scores",
    "evaluate_examples",
    "format_report",
    "parse_annotated",
    "read_examples",
]


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
    """Read texts through the given servers the product's way, keeping their order."""
    return await read_all(urls, texts)


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
# The maths lives in nlu/evaluate.py (re-exported here), the systems in nlu/evaluate_systems.py,
# the runs in nlu/evaluate_run.py and the report files in nlu/evaluate_report.py.


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
        lines.append(f"{'entity':<{width}}  precision  recall     f1  overlap-f1  support")
        for name, s in report.entities.items():
            over = report.entities_overlap.get(name)
            lines.append(
                f"{name:<{width}}  {s.precision:9.3f}  {s.recall:6.3f}  {s.f1:5.3f}  "
                f"{over.f1 if over else 0.0:10.3f}  {s.support:7d}"
            )
    hard = report.hard_negatives
    if hard is not None:
        lines.append(
            f"\nhard negatives: {hard.right}/{hard.total} intent right, "
            f"{hard.not_report}/{hard.total} not read as a report"
        )
    lines.append(f"\n{len(report.errors)} example(s) with a wrong intent or entity")
    return "\n".join(lines)


def _systems(args: argparse.Namespace) -> list[System]:
    """Build the systems named by --systems and --config."""
    work = args.out / "work"
    known: dict[str, System] = {
        "tuned": RasaPipeline(
            "tuned", (paths.PROJECT_DIR / "config.yml").read_text(encoding="utf-8"), work
        ),
        "tfidf-logreg": TfidfLogReg(),
        "rasa-default": RasaPipeline("rasa-default", RASA_DEFAULT_CONFIG, work),
    }
    for spec in args.config:
        name, _, path = spec.partition("=")
        known[name] = RasaPipeline(name, Path(path).read_text(encoding="utf-8"), work)
        args.systems.append(name)
    unknown = [n for n in args.systems if n not in known]
    if unknown:
        raise ValueError(f"unknown system(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in dict.fromkeys(args.systems)]


def _hard_negatives(path: Path | None, heldout: Path) -> list[str]:
    """The hard negatives of a held-out file: --hard-negatives, or <stem>_hard_negatives.txt."""
    beside = heldout.with_name(f"{heldout.stem}_hard_negatives.txt")
    chosen = path or (beside if beside.is_file() else None)
    return read_hard_negatives(chosen) if chosen is not None else []


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Cross-validate and score the held-out set for the tuned pipeline and the baselines."""
    heldout: Path = args.heldout
    examples = read_examples(heldout) if heldout.is_file() else []
    training = read_training(args.data)
    if (not examples and not args.cv_only) or not training.examples:
        _say(f"no examples in {heldout} or {args.data}")
        return 1
    try:
        systems = _systems(args)
    except (ValueError, OSError) as exc:
        _say(str(exc))
        return 1
    cv_systems = set(args.cv_systems if args.cv_systems is not None else args.systems)
    # The held-out score of the tuned pipeline: read by the running server through
    # nlu/understand.py, as the product reads messages (one is started if none answers).
    models: dict[str, Callable[[], Path]] = {}
    project_data = args.data.resolve() == (paths.PROJECT_DIR / "data").resolve()
    served = project_data and bool(examples) and not args.cv_only and "tuned" in args.systems
    hard_negatives = _hard_negatives(args.hard_negatives, heldout)
    started = time.time()
    served_by = ""
    try:
        with ExitStack() as stack:
            readers = {}
            if served and not args.no_server:
                urls = stack.enter_context(nlu_server(args.url))
                served_by = served_model(urls[0])
                readers["tuned"] = ServerReader(urls, served_by)
            elif project_data:  # the hash-cached project model, loaded in-process
                models["tuned"] = train
            results = run(
                systems,
                training,
                [] if args.cv_only else examples,
                folds=args.folds,
                cv_systems=cv_systems,
                cache=PredictionCache(args.out / "cache"),
                say=_say,
                models=models,
                fold_limit=args.fold_limit,
                readers=readers,
                hard_negatives=hard_negatives,
            )
    except (TrainingError, RasaServerError, NLUUnavailable, OSError) as exc:
        _say(str(exc))
        return 1
    meta = {
        "command": "linli nlu evaluate " + " ".join(sys.argv[3:] if len(sys.argv) > 3 else []),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "machine": machine(),
        "train_examples": len(training.examples),
        "heldout_examples": len(examples),
        "heldout_file": str(heldout),
        "hard_negatives": len(hard_negatives),
        "tuned_heldout_read_by": (
            f"the running Rasa server ({served_by}) through nlu/understand.py"
            if served_by
            else "the model file in-process, through nlu/understand.reading"
        ),
        "folds": args.folds,
        "folds_run": min(args.folds, args.fold_limit or args.folds),
        "seconds": round(time.time() - started),
    }
    written = write(args.out, results, meta, "tuned")
    tuned = next((r for r in results if r.heldout is not None), None)
    if tuned is not None and tuned.heldout is not None:
        print(f"[{tuned.name}, held-out]")
        print(format_report(tuned.heldout))
    for result in results:
        ho, cv = result.heldout, result.cv
        cv_text = f"CV macro-F1 {cv.macro_f1:.3f} accuracy {cv.accuracy:.3f}; " if cv else ""
        if ho is not None:
            held = f"held-out macro-F1 {ho.macro_f1:.3f} accuracy {ho.accuracy:.3f}"
            print(f"{result.name}: {cv_text}{held}")
    _say(f"report written to {written['markdown']} and {written['json']}")
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

    p = subparsers.add_parser(
        "evaluate",
        help="k-fold CV + held-out scores of the tuned pipeline and two baselines; "
        "writes report.md, report.json and confusion PNGs",
    )
    p.add_argument("--heldout", type=Path, default=paths.HELDOUT_FILE, help="Rasa NLU YAML file")
    p.add_argument(
        "--data", type=Path, default=paths.PROJECT_DIR / "data", help="training data directory"
    )
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: none)")
    p.add_argument("--cv-only", action="store_true", help="skip the held-out score")
    p.add_argument(
        "--fold-limit",
        type=int,
        default=None,
        help="run only the first N folds of the k-fold split (time budget); pooled over those",
    )
    p.add_argument(
        "--out", type=Path, default=paths.REPO_ROOT / "var" / "nlu-report", help="report folder"
    )
    p.add_argument(
        "--systems",
        type=lambda v: [s for s in v.split(",") if s],
        default=["tuned", "tfidf-logreg", "rasa-default"],
        help="comma-separated: tuned, tfidf-logreg, rasa-default (default: all three)",
    )
    p.add_argument(
        "--cv-systems",
        type=lambda v: [s for s in v.split(",") if s],
        default=None,
        help="systems to cross-validate (default: all of --systems)",
    )
    p.add_argument("--url", default=None, help=url_help + "; reads the tuned held-out set")
    p.add_argument(
        "--no-server",
        action="store_true",
        help="score the tuned held-out set with the model file in-process, not the server",
    )
    p.add_argument(
        "--hard-negatives",
        type=Path,
        default=None,
        help="held-out texts that mention a thing and report nothing, one per line "
        "(default: <heldout stem>_hard_negatives.txt beside the held-out file, if any)",
    )
    p.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="also score a Rasa config.yml under NAME (e.g. a dense-feature variant)",
    )
    p.set_defaults(func=cmd_evaluate)
