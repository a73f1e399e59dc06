"""Local development defaults for `linli run` and `linli chat`, kept in var/ (never in the repo)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_CHAT_PORT = 8089


def dev_env_file(var_dir: Path) -> Path:
    """Where the generated development secret lives."""
    return var_dir / "dev.env"


def ensure_dev_env(var_dir: Path) -> dict[str, str]:
    """Fill in the generic connector's secret, the link key and outbound URL for a local demo."""
    path = dev_env_file(var_dir)
    values = read_env_file(path)
    missing = [k for k in ("LINLI_GENERIC_SECRET", "LINLI_SECRET_KEY") if k not in values]
    if missing:
        var_dir.mkdir(parents=True, exist_ok=True)
        for key in missing:
            values[key] = secrets.token_hex(24)
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
        path.chmod(0o600)
    applied = {
        "LINLI_GENERIC_SECRET": os.environ.get("LINLI_GENERIC_SECRET")
        or values["LINLI_GENERIC_SECRET"],
        "LINLI_SECRET_KEY": os.environ.get("LINLI_SECRET_KEY") or values["LINLI_SECRET_KEY"],
        "LINLI_GENERIC_OUTBOUND_URL": os.environ.get("LINLI_GENERIC_OUTBOUND_URL")
        or f"http://127.0.0.1:{DEFAULT_CHAT_PORT}/outbound",
    }
    os.environ.update(applied)
    return applied


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines."""
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines())
    return {k.strip(): v.strip() for k, *rest in pairs if rest for v in rest}
