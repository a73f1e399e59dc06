"""The intent names the trained model knows (domain.yml): for validating relabelled messages."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from nlu import paths


@lru_cache(maxsize=4)
def known_intents(domain: Path = paths.PROJECT_DIR / "domain.yml") -> frozenset[str]:
    """Every intent of the domain, with FAQ intents named in full (faq/<key>)."""
    data = yaml.safe_load(domain.read_text(encoding="utf-8")) or {}
    intents = {str(i) for i in data.get("intents", []) if str(i) != "faq"}
    for name in data.get("responses") or {}:
        if str(name).startswith("utter_faq/"):
            intents.add("faq/" + str(name).removeprefix("utter_faq/"))
    return frozenset(intents)
