"""Train the Rasa NLU model in its own venv, cached by a hash of everything that shapes it."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from nlu import paths

logger = logging.getLogger(__name__)

HASHED_FILES = ("config.yml", "domain.yml")
KEEP_MODELS = 5  # older cached models (other data versions) are pruned after a training
HASHED_DIRS = ("data", "dict", "components")
COPIED = ("config.yml", "domain.yml", "data", "dict", "components")  # a trainable project
_RASA_PIN = re.compile(r"^\s*rasa\s*==\s*([^\s#;]+)", re.IGNORECASE | re.MULTILINE)


class TrainingError(RuntimeError):
    """Raised when `rasa train nlu` fails or cannot be started."""


def rasa_pin(requirements: Path = paths.REQUIREMENTS_FILE) -> str:
    """Return the pinned Rasa version from requirements-rasa.txt ('unpinned' if absent)."""
    try:
        match = _RASA_PIN.search(requirements.read_text(encoding="utf-8"))
    except OSError:
        match = None
    return match.group(1) if match else "unpinned"


def _hashed_paths(project_dir: Path) -> list[Path]:
    """Return the files that define a model, sorted by their path relative to the project."""
    files = [project_dir / name for name in HASHED_FILES if (project_dir / name).is_file()]
    for name in HASHED_DIRS:
        folder = project_dir / name
        if folder.is_dir():
            files.extend(
                p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            )
    return sorted(files, key=lambda p: p.relative_to(project_dir).as_posix())


def training_hash(
    project_dir: Path = paths.PROJECT_DIR, requirements: Path = paths.REQUIREMENTS_FILE
) -> str:
    """Return the sha256 over config, domain, data/, dict/ and the Rasa version pin."""
    digest = hashlib.sha256()
    digest.update(f"rasa=={rasa_pin(requirements)}\0".encode())
    for path in _hashed_paths(project_dir):
        rel = path.relative_to(project_dir).as_posix()
        content = path.read_bytes()
        digest.update(f"{rel}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def model_path_for(digest: str) -> Path:
    """Return where the model for a training hash is cached."""
    return paths.model_cache_dir() / f"{digest}.tar.gz"


def latest_model(project_dir: Path = paths.PROJECT_DIR) -> Path | None:
    """Return the cached model for the current training data, or None if not trained yet."""
    model = model_path_for(training_hash(project_dir))
    return model if model.is_file() else None


@contextmanager
def _train_lock(cache_dir: Path) -> Iterator[None]:
    """Serialise trainings that share a model cache (e.g. `make run` and the test suite)."""
    with (cache_dir / ".train.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run_rasa_train(project_dir: Path, out_dir: Path, name: str, log_file: Path) -> None:
    """Run `rasa train nlu` with cwd=project_dir, appending its output to log_file."""
    rasa = paths.rasa_executable()
    if not rasa.exists():
        raise TrainingError(f"{rasa} not found; run scripts/setup-rasa.sh first")
    cmd = [str(rasa), "train", "nlu", "--config", "config.yml", "--nlu", "data"]
    if (project_dir / "domain.yml").is_file():
        cmd += ["--domain", "domain.yml"]
    cmd += ["--out", str(out_dir), "--fixed-model-name", name]
    logger.info("training NLU model %s (log: %s)", name[:12], log_file)
    with log_file.open("a", encoding="utf-8") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)}\n")
        log.flush()
        proc = subprocess.run(
            cmd,
            cwd=project_dir,
            env=paths.rasa_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if proc.returncode != 0:
        raise TrainingError(
            f"rasa train nlu failed with exit code {proc.returncode}; last lines of {log_file}:\n"
            + paths.log_tail(log_file)
        )


def prune_models(
    keep: int = KEEP_MODELS, protect: Path | Iterable[Path] | None = None
) -> list[Path]:
    """Delete all but the `keep` newest cached models (never `protect`); return the deleted."""
    kept = {protect} if isinstance(protect, Path) else set(protect or ())
    kept = {p.resolve() for p in kept}
    models = sorted(
        paths.model_cache_dir().glob("*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    doomed = [m for m in models[keep:] if m.resolve() not in kept]
    for model in doomed:
        logger.info("removing old NLU model %s", model)
        model.unlink(missing_ok=True)
    return doomed


def copy_project(dest: Path, source: Path = paths.PROJECT_DIR) -> Path:
    """Copy what training reads (config, domain, data, dictionary, components) into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif path.is_file():
            shutil.copy2(path, dest / name)
    return dest


def train(
    force: bool = False,
    project_dir: Path = paths.PROJECT_DIR,
    *,
    log_file: Path | None = None,
    protect: Iterable[Path] = (),
) -> Path:
    """Train the NLU model unless one for the project's hash is cached; return its path.

    `protect` names models the pruning after a training must keep (e.g. the live one).
    """
    project_dir = project_dir.resolve()
    digest = training_hash(project_dir)
    target = model_path_for(digest)
    if target.is_file() and not force:
        logger.info("NLU model up to date: %s", target)
        return target
    cache_dir = target.parent
    with _train_lock(cache_dir):
        if target.is_file() and not force:  # trained by someone else while we waited
            return target
        log_file = log_file or paths.var_dir() / "rasa-train.log"
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=".train-", dir=cache_dir))
        try:
            _run_rasa_train(project_dir, tmp, digest, log_file)
            produced = sorted(tmp.glob("*.tar.gz"))
            if not produced:
                raise TrainingError(
                    f"rasa train nlu produced no model in {tmp}; last lines of {log_file}:\n"
                    + paths.log_tail(log_file)
                )
            os.replace(produced[0], target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        prune_models(keep=KEEP_MODELS, protect=[target, *protect])
    logger.info(
        "trained NLU model %s in %.0f s (%.1f MB)",
        target,
        time.monotonic() - started,
        target.stat().st_size / 1e6,
    )
    return target


def main(argv: list[str] | None = None) -> int:
    """`python -m nlu.train PROJECT [LOG] [PROTECT...]`: train one project, print the model."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(main.__doc__, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    log = Path(args[1]) if len(args) > 1 and args[1] else None
    try:
        model = train(project_dir=Path(args[0]), log_file=log, protect=map(Path, args[2:]))
    except TrainingError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(model, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
