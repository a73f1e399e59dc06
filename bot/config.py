"""Settings: structure from config.yml, secrets and endpoints from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

CATEGORIES = (
    "streetlight", "sanitation", "road", "water", "gas", "noise", "mediation", "home_care",
    "assistive_device", "accessibility", "disability_cert", "job", "wish", "complaint", "other",
)  # fmt: skip


class ConfigError(Exception):
    """A configuration problem, one line per problem, naming the setting."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Strict):
    """A ticket category: its label for residents and its service-level targets."""

    label: str
    accept_minutes: Annotated[int, Field(gt=0)]
    resolve_hours: Annotated[float, Field(gt=0)]
    urgent: bool = False


class Dialogue(_Strict):
    """How the bot talks: state lifetime and how sure NLU must be."""

    state_ttl_minutes: Annotated[int, Field(gt=0)] = 30
    min_confidence: Annotated[float, Field(ge=0, le=1)] = 0.5


class WorkerSettings(_Strict):
    """How inbound messages are consumed."""

    concurrency: Annotated[int, Field(gt=0, le=256)] = 8
    lock_timeout_seconds: Annotated[float, Field(gt=0)] = 30
    reclaim_idle_seconds: Annotated[float, Field(gt=0)] = 30
    sweep_after_seconds: Annotated[float, Field(gt=0)] = 15
    sweep_interval_seconds: Annotated[float, Field(gt=0)] = 5
    nlu_retry_seconds: Annotated[float, Field(gt=0)] = 5


class Delivery(_Strict):
    """How replies are sent: retries and backoff."""

    backoff_seconds: list[Annotated[float, Field(gt=0)]] = [1, 5, 30, 120, 600]
    max_attempts: Annotated[int, Field(gt=0)] = 10
    lease_seconds: Annotated[float, Field(gt=0)] = 60
    poll_seconds: Annotated[float, Field(gt=0)] = 1


class Http(_Strict):
    """Limits of the HTTP surface."""

    max_body_bytes: Annotated[int, Field(gt=0)] = 64 * 1024
    max_text_chars: Annotated[int, Field(gt=0)] = 2000
    clock_skew_seconds: Annotated[int, Field(gt=0)] = 300


class Connectors(_Strict):
    """Which connectors may run (each also needs its environment variables)."""

    generic: bool = True


class FileConfig(_Strict):
    """The whole of config.yml."""

    community: str
    categories: dict[str, Category]
    report_intents: dict[str, str]
    dialogue: Dialogue = Dialogue()
    worker: WorkerSettings = WorkerSettings()
    delivery: Delivery = Delivery()
    http: Http = Http()
    connectors: Connectors = Connectors()
    seed_file: str = "seed/demo.yml"

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: dict[str, Category]) -> dict[str, Category]:
        unknown = sorted(set(value) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; allowed: {', '.join(CATEGORIES)}")
        return value


class Settings(BaseModel):
    """Everything the service needs at start-up."""

    model_config = ConfigDict(frozen=True)

    file: FileConfig
    config_path: Path
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    database_url: str = "sqlite+aiosqlite:///var/linli.db"
    redis_url: str = "embedded"
    nlu_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    var_dir: Path = Path("var")
    admin_token: str | None = None
    generic_secret: str | None = None
    generic_outbound_url: str | None = None


def _problems(exc: ValidationError, source: str) -> list[str]:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{source}: {where}: {err['msg']}")
    return lines


def _env_port(environ: dict[str, str], problems: list[str]) -> int:
    raw = environ.get("LINLI_HTTP_PORT", "8080")
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        problems.append(f"LINLI_HTTP_PORT: {raw!r} is not a port number (1-65535)")
        return 8080
    return int(raw)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read config.yml and the environment; raise ConfigError listing every problem."""
    env = dict(os.environ if environ is None else environ)
    path = Path(env.get("LINLI_CONFIG", "config.yml"))
    problems: list[str] = []
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"LINLI_CONFIG: {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}".replace("\n", " ")) from None
    try:
        file = FileConfig.model_validate(raw if isinstance(raw, dict) else {})
    except ValidationError as exc:
        raise ConfigError("\n".join(_problems(exc, str(path)))) from None
    for intent, category in file.report_intents.items():
        if category not in file.categories:
            problems.append(f"{path}: report_intents.{intent}: category {category!r} not defined")
    port = _env_port(env, problems)
    redis_url = env.get("LINLI_REDIS_URL", "embedded")
    if redis_url != "embedded" and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        problems.append(f"LINLI_REDIS_URL: {redis_url!r} is not 'embedded' or a redis:// URL")
    db_url = env.get("LINLI_DATABASE_URL", "sqlite+aiosqlite:///var/linli.db")
    if not db_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        problems.append(
            f"LINLI_DATABASE_URL: {db_url!r} must start with sqlite+aiosqlite:// "
            "or postgresql+asyncpg://"
        )
    nlu_urls = tuple(
        u.strip().rstrip("/")
        for u in env.get("LINLI_NLU_URL", "http://127.0.0.1:5005").split(",")
        if u.strip()
    )
    if not nlu_urls or not all(u.startswith(("http://", "https://")) for u in nlu_urls):
        problems.append("LINLI_NLU_URL: give one or more http:// URLs, comma-separated")
    if problems:
        raise ConfigError("\n".join(problems))
    return Settings(
        file=file,
        config_path=path,
        http_host=env.get("LINLI_HTTP_HOST", "127.0.0.1"),
        http_port=port,
        database_url=db_url,
        redis_url=redis_url,
        nlu_urls=nlu_urls,
        var_dir=Path(env.get("LINLI_VAR_DIR", "var")),
        admin_token=env.get("LINLI_ADMIN_TOKEN") or None,
        generic_secret=env.get("LINLI_GENERIC_SECRET") or None,
        generic_outbound_url=env.get("LINLI_GENERIC_OUTBOUND_URL") or None,
    )
