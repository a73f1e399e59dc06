"""Filesystem locations and the child-process environment shared by the NLU tooling."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_DIR = REPO_ROOT / "nlu" / "project"
REQUIREMENTS_FILE = REPO_ROOT / "nlu" / "requirements-rasa.txt"
HELDOUT_FILE = PROJECT_DIR / "heldout" / "heldout.yml"

# Variables of the service's own interpreter that must not leak into the Rasa venv.
_SCRUBBED_ENV = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__")


def var_dir() -> Path:
    """Return (and create) the runtime directory for logs, `<repo>/var`."""
    path = REPO_ROOT / "var"
    path.mkdir(parents=True, exist_ok=True)
    return path


def rasa_venv() -> Path:
    """Return the Rasa virtualenv: $LINLI_RASA_VENV or `<repo>/.venv-rasa`."""
    env = os.environ.get("LINLI_RASA_VENV")
    return Path(env).expanduser().resolve() if env else REPO_ROOT / ".venv-rasa"


def rasa_executable() -> Path:
    """Return the `rasa` console script inside the Rasa virtualenv."""
    return rasa_venv() / "bin" / "rasa"


def model_cache_dir() -> Path:
    """Return (and create) the model cache: $LINLI_MODEL_DIR or ~/.cache/linli/models."""
    env = os.environ.get("LINLI_MODEL_DIR")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "linli" / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def rasa_env() -> dict[str, str]:
    """Return the environment for a Rasa child process, free of the service venv."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    own_bin = str(Path(sys.prefix) / "bin")
    path_parts = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != own_bin]
    env["PATH"] = os.pathsep.join([str(rasa_venv() / "bin"), *path_parts])
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONWARNINGS"] = "ignore"
    env["SQLALCHEMY_SILENCE_UBER_WARNING"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    # Custom components (`components.*` in config.yml) import from the project directory;
    # `rasa` adds only its cwd to sys.path, and the server runs with cwd var/.
    env["PYTHONPATH"] = str(PROJECT_DIR)
    # Rasa's own component cache (./.rasa/cache, up to 1 GB) is redundant with our
    # hash-keyed model cache: keep it out of the work tree and switch it off.
    env.setdefault("RASA_CACHE_DIRECTORY", str(var_dir() / "rasa-cache"))
    env.setdefault("RASA_MAX_CACHE_SIZE", "0")
    return env


def log_tail(path: Path, lines: int = 40) -> str:
    """Return the last `lines` lines of a log file ('' when it does not exist)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    # Progress bars put many carriage-return updates on one line: keep the latest of each.
    tail = [line.rsplit("\r", 1)[-1][-400:] for line in data.rstrip("\n").split("\n")[-lines:]]
    return "\n".join(tail)
