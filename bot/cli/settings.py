"""The settings every `linli` command starts from: one line per wrong setting, then exit 2."""

from __future__ import annotations

import sys

from bot.config import ConfigError, Settings, load_settings


def settings_or_exit() -> Settings:
    """The service's settings, or each configuration problem printed and exit status 2."""
    try:
        return load_settings()
    except ConfigError as exc:
        for line in str(exc).splitlines():
            print(f"linli: configuration: {line}", file=sys.stderr)
        raise SystemExit(2) from None
