"""The embedded Redis starts from a relative var/ directory, keeps streams, and stops."""

from __future__ import annotations

from pathlib import Path

import redis

from storage.embedded_redis import EmbeddedRedis


def test_relative_directory_and_restart_keeps_data(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    server = EmbeddedRedis(Path("var") / "redis")
    url = server.start()
    client = redis.Redis.from_url(url)
    client.xadd("linli:test", {"m": "1"})
    client.close()
    server.stop()
    assert server.process is None
    assert (tmp_path / "var" / "redis" / "redis.log").exists()
    server.start()
    client = redis.Redis.from_url(server.url)
    assert client.xlen("linli:test") == 1  # appendonly: a restart loses nothing
    client.close()
    server.stop()
