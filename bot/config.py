"""Settings: structure from config.yml, secrets and endpoints from the environment."""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, ValidationError, field_validator

CATEGORIES = (
    "streetlight",
    "sanitation",
    "road",
    "water",
    "gas",
    "noise",
    "mediation",
    "home_care",
    "assistive_device",
    "accessibility",
    "disability_cert",
    "job",
    "wish",
    "complaint",
    "other",
)


WECOM_API = "https://qyapi.weixin.qq.com"
WECHAT_API = "https://api.weixin.qq.com"
# Platform credentials: (required, optional) variables. Setting some but not all required
# ones (or only optional ones) is an error; setting none leaves the connector off.
PLATFORM_ENV = {
    "wecom": (
        (
            "LINLI_WECOM_CORP_ID",
            "LINLI_WECOM_AGENT_ID",
            "LINLI_WECOM_SECRET",
            "LINLI_WECOM_TOKEN",
            "LINLI_WECOM_AES_KEY",
        ),
        (),
    ),
    "wechat": (
        ("LINLI_WECHAT_APP_ID", "LINLI_WECHAT_SECRET", "LINLI_WECHAT_TOKEN"),
        ("LINLI_WECHAT_AES_KEY",),
    ),
}
MIN_METRICS_TOKEN = 32
_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")
ADMIN_TOKEN_MIN_CHARS = 32


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
    route: Literal["grid", "staff"] = "grid"


class Dialogue(_Strict):
    """How the bot talks: state lifetime and how sure NLU must be."""

    state_ttl_minutes: Annotated[int, Field(gt=0)] = 30
    min_confidence: Annotated[float, Field(ge=0, le=1)] = 0.5
    # A report may start on a weaker reading: its confirmation names the problem and place.
    report_min_confidence: Annotated[float, Field(ge=0, le=1)] = 0.3
    # Identical normalised texts reuse a parse for this long (0: always ask Rasa).
    parse_cache_seconds: Annotated[int, Field(ge=0, le=86400)] = 300
    # In a group chat, a message that does not mention the bot is acted on only when it is
    # a report intent at least this sure (handlers/group.py).
    group_min_confidence: Annotated[float, Field(ge=0, le=1)] = 0.8
    # A request left in the middle this long gets one follow-up; twice this long, what was
    # said is filed as a ticket (a report) or passed to staff (handlers/silence.py).
    abandon_minutes: Annotated[int, Field(gt=0, le=1440)] = 20


class WorkerSettings(_Strict):
    """How inbound messages are consumed."""

    concurrency: Annotated[int, Field(gt=0, le=256)] = 8
    lock_timeout_seconds: Annotated[float, Field(gt=0)] = 30
    reclaim_idle_seconds: Annotated[float, Field(gt=0)] = 30
    sweep_after_seconds: Annotated[float, Field(gt=0)] = 15
    sweep_interval_seconds: Annotated[float, Field(gt=0)] = 5
    nlu_retry_seconds: Annotated[float, Field(gt=0)] = 5
    drain_seconds: Annotated[float, Field(gt=0)] = 10


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
    clock_skew_seconds: Annotated[int, Field(gt=0, le=300)] = 300  # every signed webhook
    idle_timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = 15
    body_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10
    linger_seconds: Annotated[float, Field(ge=0, le=60)] = 2
    max_header_line_bytes: Annotated[int, Field(ge=1024, le=65536)] = 8190
    max_header_field_bytes: Annotated[int, Field(ge=1024, le=65536)] = 8190
    metrics_cache_seconds: Annotated[float, Field(ge=0, le=300)] = 5
    readiness_cache_seconds: Annotated[float, Field(ge=0, le=60)] = 1
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks); from any
    # other peer the connection's own address is the client (LINLI_TRUSTED_PROXIES overrides).
    trusted_proxies: tuple[IPvAnyNetwork, ...] = ()


class Connectors(_Strict):
    """Which connectors may run (each also needs its environment variables)."""

    generic: bool = True
    wecom: bool = True
    wechat: bool = True


Window = tuple[Annotated[int, Field(gt=0)], Annotated[float, Field(gt=0)]]


class Pacing(_Strict):
    """Platform send limits as (messages, seconds) windows; replies over a limit wait."""

    wecom_member: list[Window] = [(30, 60), (1000, 3600)]
    wecom_robot: list[Window] = [(20, 60)]
    rate_limited_retry_seconds: Annotated[float, Field(gt=0)] = 60


class SubscribeTemplate(_Strict):
    """A subscription-message template for pushes outside WeChat's customer-service window."""

    template_id: str | None = None  # none: such pushes fail (dead letter) with a clear error
    page: str | None = None
    # template field -> text with {text} (the message), {time} (local) and {community}
    fields: dict[str, str] = {}
    max_field_chars: Annotated[int, Field(gt=0)] = 20


class WeChatSettings(_Strict):
    """WeChat Official Account behaviour (no secrets: those are environment variables)."""

    passive_reply_seconds: Annotated[float, Field(ge=0, le=4.5)] = 4.0  # 0: never passive
    # plain mode (no LINLI_WECHAT_AES_KEY) cannot authenticate a callback's body: opt in
    allow_plain_mode: bool = False
    service_window_hours: Annotated[float, Field(gt=0, le=48)] = 48
    subscribe: SubscribeTemplate = SubscribeTemplate()


class Privacy(_Strict):
    """How long residents' words are kept."""

    # Message texts (and their NLU results) older than this are erased; tickets, their
    # history and the statistics stay. 0 keeps texts for ever.
    message_retention_days: Annotated[int, Field(ge=0)] = 365


class Auth(_Strict):
    """Token lifetimes, the back-off after failed logins and tokens, password checking."""

    api_token_days: Annotated[int, Field(gt=0, le=3650)] = 90
    session_hours: Annotated[float, Field(gt=0, le=24 * 30)] = 12
    login_free_failures: Annotated[int, Field(gt=0)] = 5  # one name from one client address
    login_free_failures_per_address: Annotated[int, Field(gt=0)] = 20  # any name, one address
    login_free_failures_per_name: Annotated[int, Field(gt=0)] = 20  # one name, any address
    bearer_free_failures: Annotated[int, Field(gt=0)] = 20  # wrong tokens from one address
    first_delay_seconds: Annotated[float, Field(gt=0, le=3600)] = 1
    max_delay_seconds: Annotated[float, Field(gt=0, le=86400)] = 900
    forget_after_seconds: Annotated[float, Field(gt=0, le=7 * 86400)] = 3600
    password_checks_at_once: Annotated[int, Field(gt=0, le=64)] = 2
    password_checks_waiting: Annotated[int, Field(ge=0, le=10000)] = 32


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
    pacing: Pacing = Pacing()
    privacy: Privacy = Privacy()
    auth: Auth = Auth()
    wechat: WeChatSettings = WeChatSettings()
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
    trusted_proxies: tuple[IPvAnyNetwork, ...] = ()
    metrics_token: str | None = None  # when set, GET /metrics wants it as a bearer token
    secret_key: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    generic_secret: str | None = None
    generic_outbound_url: str | None = None
    wecom_corp_id: str | None = None
    wecom_agent_id: str | None = None
    wecom_secret: str | None = None
    wecom_token: str | None = None
    wecom_aes_key: str | None = None
    wecom_api_base: str = WECOM_API
    wecom_robot_keys: str | None = None  # "chat_id=key,…": group chats answered by a robot
    wechat_app_id: str | None = None
    wechat_secret: str | None = None
    wechat_token: str | None = None
    wechat_aes_key: str | None = None
    wechat_api_base: str = WECHAT_API


def _problems(exc: ValidationError, source: str) -> list[str]:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"{source}: {where}: {err['msg']}")
    return lines


def _env_port(environ: dict[str, str], problems: list[str]) -> int:
    raw = environ.get("LINLI_HTTP_PORT", "8080")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 5 or not 0 < int(raw) < 65536:
        problems.append(f"LINLI_HTTP_PORT: {raw!r} is not a port number (1-65535)")
        return 8080
    return int(raw)


def _platform_env(env: dict[str, str], problems: list[str]) -> dict[str, Any]:
    """The WeCom and WeChat variables, checking that each platform is fully configured."""
    values: dict[str, Any] = {}
    for platform, (required, optional) in PLATFORM_ENV.items():
        present = {name: env[name].strip() for name in (*required, *optional) if env.get(name)}
        missing = [name for name in required if name not in present]
        if present and missing:
            problems.append(
                f"{platform} connector half-configured: set {', '.join(missing)} "
                f"(or unset {', '.join(sorted(present))})"
            )
        for name in (*required, *optional):
            values[name.removeprefix("LINLI_").lower()] = present.get(name)
        base = f"LINLI_{platform.upper()}_API_BASE"
        url = env.get(base, "").strip().rstrip("/")
        if url and not url.startswith(("http://", "https://")):
            problems.append(f"{base}: {url!r} is not an http(s):// URL")
        values[base.removeprefix("LINLI_").lower()] = url or None
    for name in ("LINLI_WECOM_AES_KEY", "LINLI_WECHAT_AES_KEY"):
        key = env.get(name, "").strip()
        if key and not _AES_KEY.fullmatch(key):
            problems.append(f"{name}: an EncodingAESKey is 43 letters, digits, + or /")
    agent = env.get("LINLI_WECOM_AGENT_ID", "").strip()
    if agent and not (agent.isascii() and agent.isdigit()):
        problems.append(f"LINLI_WECOM_AGENT_ID: {agent!r} is not a number")
    return values


def _trusted_proxies(
    env: dict[str, str], file: FileConfig, problems: list[str]
) -> tuple[IPvAnyNetwork, ...]:
    """LINLI_TRUSTED_PROXIES (comma-separated addresses or networks), else config.yml's list."""
    raw = env.get("LINLI_TRUSTED_PROXIES")
    if raw is None:
        return file.http.trusted_proxies
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item))
        except ValueError:
            problems.append(f"LINLI_TRUSTED_PROXIES: {item!r} is not an IP address or network")
    return tuple(networks)


def _admin_token(env: dict[str, str], problems: list[str]) -> str | None:
    """The bootstrap admin token: long enough that it cannot be guessed, or none."""
    token = env.get("LINLI_ADMIN_TOKEN") or None
    if token is not None and len(token) < ADMIN_TOKEN_MIN_CHARS:
        problems.append(
            f"LINLI_ADMIN_TOKEN: {len(token)} characters, needs at least "
            f"{ADMIN_TOKEN_MIN_CHARS} (make one: python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))')"
        )
    return token


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
    platforms = _platform_env(env, problems)
    wechat_plain = platforms["wechat_app_id"] and not platforms["wechat_aes_key"]
    if wechat_plain and file.connectors.wechat and not file.wechat.allow_plain_mode:
        problems.append(
            "LINLI_WECHAT_AES_KEY is not set: WeChat plain mode cannot authenticate a "
            "callback's body; set the account to safe mode (安全模式) and the key, or allow "
            f"plain mode in {path} (wechat.allow_plain_mode: true, see docs/security.md)"
        )
    trusted_proxies = _trusted_proxies(env, file, problems)
    admin_token = _admin_token(env, problems)
    host = env.get("LINLI_HTTP_HOST", "127.0.0.1")
    public_url = env.get("LINLI_PUBLIC_URL", "").strip().rstrip("/") or f"http://{host}:{port}"
    metrics_token = env.get("LINLI_METRICS_TOKEN") or None
    if metrics_token is not None and len(metrics_token) < MIN_METRICS_TOKEN:
        problems.append(f"LINLI_METRICS_TOKEN: at least {MIN_METRICS_TOKEN} characters")
    if not public_url.startswith(("http://", "https://")):
        problems.append(f"LINLI_PUBLIC_URL: {public_url!r} is not an http(s):// URL")
    if problems:
        raise ConfigError("\n".join(problems))
    platforms["wecom_api_base"] = platforms["wecom_api_base"] or WECOM_API
    platforms["wechat_api_base"] = platforms["wechat_api_base"] or WECHAT_API
    return Settings(
        file=file,
        config_path=path,
        http_host=env.get("LINLI_HTTP_HOST", "127.0.0.1"),
        http_port=port,
        database_url=db_url,
        redis_url=redis_url,
        nlu_urls=nlu_urls,
        var_dir=Path(env.get("LINLI_VAR_DIR", "var")),
        admin_token=admin_token,
        trusted_proxies=trusted_proxies,
        metrics_token=metrics_token,
        secret_key=env.get("LINLI_SECRET_KEY") or None,
        public_url=public_url,
        generic_secret=env.get("LINLI_GENERIC_SECRET") or None,
        generic_outbound_url=env.get("LINLI_GENERIC_OUTBOUND_URL") or None,
        wecom_robot_keys=env.get("LINLI_WECOM_ROBOT_KEYS") or None,
        **platforms,
    )
