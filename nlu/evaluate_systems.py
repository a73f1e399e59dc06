"""The systems `linli nlu evaluate` compares: Rasa pipelines (tuned, default) and TF-IDF + LR."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

from nlu import paths
from nlu.client import FALLBACK_INTENT, ParseResult
from nlu.evaluate import Example, read_examples
from nlu.normalize import normalize
from nlu.train import TrainingError
from nlu.understand import reading

logger = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).resolve().parent / "evaluate_rasa_worker.py"
NICE = ["nice", "-n", "15"]  # the machine is shared: evaluation runs behind everything else

# Rasa 3.6's own default pipeline (rasa/engine/recipes/config_files/default_config.yml) with the
# one change Chinese needs: WhitespaceTokenizer refuses `zh`, so Jieba (no custom dictionary).
RASA_DEFAULT_CONFIG = """\
recipe: default.v1
assistant_id: linli-baseline-rasa-default
language: zh
pipeline:
  - name: JiebaTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    constrain_similarities: true
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: 100
    constrain_similarities: true
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
policies: []
"""


@dataclass
class TrainingSet:
    """Training examples plus the non-intent blocks (regex, lookup, synonym) they come with."""

    examples: list[Example]
    extras: list[dict[str, Any]] = field(default_factory=list)


def read_training(data_dir: Path = paths.PROJECT_DIR / "data") -> TrainingSet:
    """Read every NLU YAML file of a Rasa data directory."""
    examples: list[Example] = []
    extras: list[dict[str, Any]] = []
    for path in sorted(data_dir.glob("*.yml")):
        examples.extend(read_examples(path))
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        extras.extend(b for b in data.get("nlu") or () if isinstance(b, dict) and "intent" not in b)
    return TrainingSet(examples, extras)


def nlu_yaml(examples: Sequence[Example], extras: Sequence[dict[str, Any]] = ()) -> str:
    """Write examples (by their annotated source) and extra blocks as a Rasa NLU YAML file."""
    by_intent: dict[str, list[str]] = {}
    for example in examples:
        by_intent.setdefault(example.intent, []).append(example.source or example.text)
    lines = ['version: "3.1"', "nlu:"]
    for intent, sources in by_intent.items():
        lines += [f"- intent: {intent}", "  examples: |", *(f"    - {s}" for s in sources)]
    for block in extras:
        kind = "regex" if "regex" in block else "lookup" if "lookup" in block else "synonym"
        lines += [f"- {kind}: {block[kind]}", "  examples: |"]
        lines += [f"    {line}" for line in str(block.get("examples", "")).splitlines() if line]
    return "\n".join(lines) + "\n"


def to_original(text: str, data: dict[str, Any]) -> ParseResult:
    """Read Rasa's answer for normalize(text) as the product does (nlu/understand.reading)."""
    norm = normalize(text)
    if not norm.text:  # understand() reads nothing here; the product falls back
        return ParseResult(text, FALLBACK_INTENT, 0.0, normalized=norm.text)
    selector = data.get("response_selector") or {}
    if "default" in selector and "faq" not in selector:
        # A ResponseSelector without `retrieval_intent` (Rasa's default pipeline) answers
        # under "default"; read it as the faq selector so FAQ keys are scored, not just "faq".
        data = {**data, "response_selector": {**selector, "faq": selector["default"]}}
    return reading(text, norm, ParseResult.from_rasa(norm.text, data))


class System(Protocol):
    """Something that learns from training examples and predicts intents (and entities)."""

    name: str
    has_entities: bool

    def fingerprint(self) -> str:
        """Return a string that changes whenever the system's behaviour would."""

    def fit_predict(self, train: TrainingSet, texts: Sequence[str]) -> list[ParseResult]:
        """Train on `train`, then predict `texts` (given as residents wrote them)."""


class TfidfLogReg:
    """Baseline: TF-IDF over character 1–4-grams + logistic regression (scikit-learn)."""

    has_entities = False

    def __init__(self, name: str = "tfidf-logreg", c: float = 10.0) -> None:
        """Remember the regularisation strength."""
        self.name = name
        self.c = c

    def fingerprint(self) -> str:
        """Return the model settings."""
        return f"tfidf char_wb 1-4 sublinear, logreg C={self.c}, normalized input"

    def fit_predict(self, train: TrainingSet, texts: Sequence[str]) -> list[ParseResult]:
        """Fit on normalised training texts and predict normalised test texts."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        model = make_pipeline(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True),
            LogisticRegression(C=self.c, max_iter=2000),
        )
        model.fit(
            [normalize(e.text).text for e in train.examples], [e.intent for e in train.examples]
        )
        probabilities = model.predict_proba([normalize(t).text for t in texts])
        classes = list(model.classes_)
        results = []
        for text, row in zip(texts, probabilities, strict=True):
            best = int(row.argmax())
            results.append(ParseResult(text, str(classes[best]), float(row[best])))
        return results


class RasaPipeline:
    """A Rasa NLU pipeline trained in a scratch project and run in-process by the Rasa venv."""

    has_entities = True

    def __init__(self, name: str, config: str, work_dir: Path | None = None) -> None:
        """Remember the pipeline (config.yml text) and where scratch projects go."""
        self.name = name
        self.config = config
        self.work_dir = work_dir
        self.train_seconds: list[float] = []

    def fingerprint(self) -> str:
        """Return the config text and a digest of the dictionary and domain."""
        digest = hashlib.sha256()
        files = sorted((paths.PROJECT_DIR / "dict").glob("*"))
        if "components." in self.config:  # custom components are part of the pipeline
            files += sorted((paths.PROJECT_DIR / "components").glob("*.py"))
        for path in [*files, paths.PROJECT_DIR / "domain.yml"]:
            digest.update(path.read_bytes())
        return f"{self.config}\n{digest.hexdigest()}"

    def _project(self, root: Path, train: TrainingSet) -> Path:
        """Lay out config, domain, dictionary and training data under `root`."""
        (root / "data").mkdir(parents=True)
        (root / "config.yml").write_text(self.config, encoding="utf-8")
        shutil.copy(paths.PROJECT_DIR / "domain.yml", root / "domain.yml")
        shutil.copytree(paths.PROJECT_DIR / "dict", root / "dict")
        if (paths.PROJECT_DIR / "components").is_dir():  # custom components named in configs
            shutil.copytree(
                paths.PROJECT_DIR / "components",
                root / "components",
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        (root / "data" / "train.yml").write_text(
            nlu_yaml(train.examples, train.extras), encoding="utf-8"
        )
        return root

    def train(self, train: TrainingSet, root: Path) -> Path:
        """Run `rasa train nlu` on the scratch project; return the model file."""
        self._project(root, train)
        cmd = [*NICE, str(paths.rasa_executable()), "train", "nlu", "--config", "config.yml"]
        cmd += ["--nlu", "data", "--domain", "domain.yml", "--out", "models"]
        cmd += ["--fixed-model-name", "model"]
        log = root / "train.log"
        started = time.monotonic()
        with log.open("w", encoding="utf-8") as out:
            proc = subprocess.run(
                cmd,
                cwd=root,
                env=paths.rasa_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
        self.train_seconds.append(time.monotonic() - started)
        model = root / "models" / "model.tar.gz"
        if proc.returncode != 0 or not model.is_file():
            raise TrainingError(f"{self.name}: training failed:\n{paths.log_tail(log)}")
        logger.info("%s trained in %.0f s", self.name, self.train_seconds[-1])
        return model

    def fit_predict(self, train: TrainingSet, texts: Sequence[str]) -> list[ParseResult]:
        """Train a model on `train` and parse the normalised texts with it."""
        base = self.work_dir or paths.var_dir()
        base.mkdir(parents=True, exist_ok=True)
        root = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=base))
        try:
            model = self.train(train, root / "project")
            return predict_with_model(model, texts, root, cwd=root / "project")
        finally:
            shutil.rmtree(root, ignore_errors=True)


def predict_with_model(
    model: Path, texts: Sequence[str], scratch: Path, cwd: Path = paths.PROJECT_DIR
) -> list[ParseResult]:
    """Parse normalize(text) for each text with a model file, offsets mapped back to the text.

    `cwd` is the project the model was trained in (its custom components import from there).
    """
    command, log = parse_command(model, texts, scratch)
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.run(
            command,
            cwd=cwd,
            env=paths.rasa_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if proc.returncode != 0:
        raise TrainingError(f"parsing with {model} failed:\n{paths.log_tail(log)}")
    return parsed_results(model, texts, scratch)


def parse_command(model: Path, texts: Sequence[str], scratch: Path) -> tuple[list[str], Path]:
    """Write normalised texts under `scratch`; return the worker's command line and its log."""
    source, target = scratch / "texts.jsonl", scratch / "parsed.jsonl"
    source.write_text(
        "".join(json.dumps(normalize(t).text, ensure_ascii=False) + "\n" for t in texts),
        encoding="utf-8",
    )
    python = paths.rasa_venv() / "bin" / "python"
    command = [*NICE, str(python), str(WORKER_SCRIPT), str(model), str(source), str(target)]
    return command, scratch / "parse.log"


def parsed_results(model: Path, texts: Sequence[str], scratch: Path) -> list[ParseResult]:
    """Read the worker's answers (see parse_command) as results with offsets into the texts."""
    target = scratch / "parsed.jsonl"
    answers = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    if len(answers) != len(texts):
        raise TrainingError(f"{model}: {len(answers)} answers for {len(texts)} texts")
    return [to_original(t, a) for t, a in zip(texts, answers, strict=True)]
