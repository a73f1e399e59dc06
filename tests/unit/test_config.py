"""Start-up configuration: valid files load; each wrong setting is named on one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import ConfigError, load_settings
from tests.support import REPO


def env_for(path: Path, **extra: str) -> dict[str, str]:
    return {"LINLI_CONFIG": str(path), **extra}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def repo_config() -> dict:
    return yaml.safe_load((REPO / "config.yml").read_text(encoding="utf-8"))


def test_shipped_config_loads_with_documented_defaults():
    settings = load_settings({"LINLI_CONFIG": str(REPO / "config.yml")})
    assert settings.http_port == 8080 and settings.http_host == "127.0.0.1"
    assert settings.redis_url == "embedded"
    assert settings.database_url == "sqlite+aiosqlite:///var/linli.db"
    assert settings.nlu_urls == ("http://127.0.0.1:5005",)
    assert settings.file.categories["gas"].urgent
    assert settings.generic_secret is None


def test_missing_file_is_named():
    with pytest.raises(ConfigError, match=r"LINLI_CONFIG: /nowhere\.yml does not exist"):
        load_settings({"LINLI_CONFIG": "/nowhere.yml"})


def test_wrong_value_is_named_with_its_path(tmp_path):
    data = repo_config()
    data["worker"]["concurrency"] = "many"
    with pytest.raises(ConfigError) as err:
        load_settings(env_for(write(tmp_path, data)))
    lines = str(err.value).splitlines()
    assert len(lines) == 1
    assert "worker.concurrency" in lines[0]


def test_unknown_key_and_category_are_refused(tmp_path):
    data = repo_config()
    data["wrokers"] = {}
    data["categories"]["potholes"] = {"label": "坑", "accept_minutes": 1, "resolve_hours": 1}
    with pytest.raises(ConfigError) as err:
        load_settings(env_for(write(tmp_path, data)))
    text = str(err.value)
    assert "wrokers" in text and "potholes" in text


def test_report_intent_must_name_a_defined_category(tmp_path):
    data = repo_config()
    del data["categories"]["job"]
    data["report_intents"]["report_road"] = "job"
    with pytest.raises(ConfigError, match=r"report_intents\.report_road: category 'job'"):
        load_settings(env_for(write(tmp_path, data)))


def test_bad_environment_values_are_each_named(tmp_path):
    env = env_for(
        REPO / "config.yml",
        LINLI_HTTP_PORT="eighty",
        LINLI_REDIS_URL="memcached://x",
        LINLI_DATABASE_URL="mysql://x",
        LINLI_NLU_URL="localhost:5005",
    )
    with pytest.raises(ConfigError) as err:
        load_settings(env)
    lines = str(err.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "LINLI_HTTP_PORT", "LINLI_REDIS_URL", "LINLI_DATABASE_URL", "LINLI_NLU_URL",
    ]  # fmt: skip


def test_invalid_yaml_is_one_line(tmp_path):
    path = tmp_path / "config.yml"
    path.write_text("community: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(env_for(path))
    assert len(str(err.value).splitlines()) == 1


def test_cli_exits_with_the_message(tmp_path, capsys, monkeypatch):
    from bot.cli import main

    data = repo_config()
    data["http"]["max_body_bytes"] = -1
    monkeypatch.setenv("LINLI_CONFIG", str(write(tmp_path, data)))
    with pytest.raises(SystemExit) as exit_info:
        main(["db", "upgrade"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("linli: configuration:")
    assert "http.max_body_bytes" in err


def test_a_short_bootstrap_admin_token_stops_the_start_in_one_line():
    config = str(REPO / "config.yml")
    with pytest.raises(ConfigError) as err:
        load_settings(env_for(Path(config), LINLI_ADMIN_TOKEN="x" * 31))
    [line] = str(err.value).splitlines()
    assert line.startswith("LINLI_ADMIN_TOKEN: 31 characters, needs at least 32")
    assert load_settings(env_for(Path(config), LINLI_ADMIN_TOKEN="x" * 32)).admin_token == "x" * 32


def test_trusted_proxies_come_from_the_file_or_the_environment(tmp_path):
    data = repo_config()
    data["http"]["trusted_proxies"] = ["10.0.0.0/8", "127.0.0.1"]
    path = write(tmp_path, data)
    assert [str(n) for n in load_settings(env_for(path)).trusted_proxies] == [
        "10.0.0.0/8",
        "127.0.0.1/32",
    ]
    settings = load_settings(env_for(path, LINLI_TRUSTED_PROXIES="::1, 192.168.0.0/16"))
    assert [str(n) for n in settings.trusted_proxies] == ["::1/128", "192.168.0.0/16"]
    with pytest.raises(ConfigError, match=r"LINLI_TRUSTED_PROXIES: 'proxy' is not an IP"):
        load_settings(env_for(path, LINLI_TRUSTED_PROXIES="proxy"))
    data["http"]["trusted_proxies"] = ["10.0.0.1/8"]  # host bits set: a typo, not a network
    with pytest.raises(ConfigError, match=r"http\.trusted_proxies"):
        load_settings(env_for(write(tmp_path, data)))


def test_a_short_metrics_token_is_refused():
    env = {"LINLI_CONFIG": str(REPO / "config.yml"), "LINLI_METRICS_TOKEN": "short"}
    with pytest.raises(ConfigError, match="LINLI_METRICS_TOKEN"):
        load_settings(env)
    env["LINLI_METRICS_TOKEN"] = "t" * 32
    assert load_settings(env).metrics_token == "t" * 32
