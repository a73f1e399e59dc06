"""Slow and oversized clients against a real server on a port: others are still answered.

The app runs under web.AppRunner + TCPSite with the same limits `linli serve` uses
(bot/http_limits.py), shortened through config.yml's `http:` section so the test is quick.
While hundreds of connections trickle headers or bodies a byte at a time, signed webhook
messages and /healthz keep getting answers; oversized bodies get 413 before they are sent;
afterwards the server has closed every slow connection itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import create_app
from bot.config import ConfigError
from bot.connectors.signing import signed_headers
from bot.web.http_limits import runner_limits
from tests.support import SECRET, make_settings, message_body

NO_NLU = "http://127.0.0.1:9"
LIMITS = {"idle_timeout_seconds": 2, "body_timeout_seconds": 2, "linger_seconds": 0.5,
          "max_body_bytes": 65536}  # fmt: skip
SLOW_CONNECTIONS = 200
TRICKLE_SECONDS = 0.5
CLOSED_WITHIN = 30.0  # generous: the limits above close them after 2-3 s


@pytest.fixture
async def server(tmp_path: Path, db_url: str, redis_url: str) -> AsyncIterator[tuple[str, int]]:
    """The web role listening on a free port of 127.0.0.1 with the production limits."""
    settings = make_settings(tmp_path, db_url, redis_url, NO_NLU, None, {"http": LIMITS})
    runner = web.AppRunner(
        create_app(settings, worker_role=False), **runner_limits(settings.file.http)
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield "127.0.0.1", port
    await runner.cleanup()


async def _trickle(host: str, port: int, data: bytes, head_len: int) -> bytes | None:
    """Send data[:head_len] at once, the rest a byte at a time, until the server hangs up.

    Returns what the server said before closing, or None when it kept the connection open.
    """
    reader, writer = await asyncio.open_connection(host, port)
    answer = b""
    try:
        writer.write(data[:head_len])
        await writer.drain()
        for byte in data[head_len:]:
            writer.write(bytes([byte]))
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                chunk = await asyncio.wait_for(reader.read(4096), TRICKLE_SECONDS)
                if not chunk:
                    return answer
                answer += chunk
        while chunk := await asyncio.wait_for(reader.read(4096), CLOSED_WITHIN):
            answer += chunk
        return answer
    except ConnectionError:
        return answer
    except TimeoutError:
        return None
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _normal_traffic(base: str, rounds: int) -> list[int]:
    """Signed webhook messages and health checks, one after another; their statuses."""
    statuses = []
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for i in range(rounds):
            body = message_body(f"calm-{i}", "东关中巷的路灯坏了")
            async with session.post(
                f"{base}/webhooks/generic", data=body, headers=signed_headers(SECRET, body)
            ) as resp:
                statuses.append(resp.status)
            async with session.get(f"{base}/healthz") as resp:
                statuses.append(resp.status)
            await asyncio.sleep(0.05)
    return statuses


def _slow_headers(i: int) -> bytes:
    head = "POST /webhooks/generic HTTP/1.1\r\nHost: x\r\n"
    return (head + "".join(f"X-Slow-{n}: {i}\r\n" for n in range(60))).encode()


def _slow_body(i: int) -> bytes:
    body = message_body(f"slow-{i}", "路灯坏了" * 50)
    head = f"POST /webhooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def test_slow_loris_does_not_starve_the_server_and_is_cut_off(server):
    host, port = server
    heads = [asyncio.create_task(_trickle(host, port, _slow_headers(i), 0))
             for i in range(SLOW_CONNECTIONS // 2)]  # fmt: skip
    bodies = []
    for i in range(SLOW_CONNECTIONS // 2):
        data = _slow_body(i)
        head_len = data.index(b"\r\n\r\n") + 4
        bodies.append(asyncio.create_task(_trickle(host, port, data, head_len)))
    await asyncio.sleep(1)  # every slow connection is open and sending
    statuses = await _normal_traffic(f"http://{host}:{port}", rounds=20)
    assert statuses == [200] * 40
    head_answers = await asyncio.gather(*heads)
    body_answers = await asyncio.gather(*bodies)
    assert None not in head_answers + body_answers, "slow connections were left open"
    assert all(a == b"" for a in head_answers)  # closed without a word: no request came
    assert all(a is not None and a.startswith(b"HTTP/1.1 408") for a in body_answers)
    assert await _normal_traffic(f"http://{host}:{port}", rounds=2) == [200] * 4


async def _status_line(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readline(), CLOSED_WITHIN)


async def test_a_declared_huge_body_is_refused_unread(server):
    host, port = server
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"POST /webhooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1073741824\r\n\r\n" + b"{" * 1024
    )
    await writer.drain()
    # 1 KiB of the declared gigabyte is sent: the answer comes without the rest
    assert (await _status_line(reader)).startswith(b"HTTP/1.1 413")
    writer.close()
    statuses = await _normal_traffic(f"http://{host}:{port}", rounds=2)
    assert statuses == [200] * 4


async def test_a_chunked_body_growing_past_the_limit_is_refused(server):
    host, port = server
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"POST /webhooks/generic HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    answer = asyncio.create_task(_status_line(reader))
    chunk = b"4000\r\n" + b"a" * 0x4000 + b"\r\n"  # 16 KiB chunks, never a last chunk
    sent = 0
    with contextlib.suppress(ConnectionError):
        while not answer.done() and sent < 64 * 1024 * 1024:
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), CLOSED_WITHIN)
            sent += len(chunk)
            await asyncio.sleep(0)
    assert (await answer).startswith(b"HTTP/1.1 413")
    assert sent < 64 * 1024 * 1024  # refused long before the sender gave up
    writer.close()
    assert await _normal_traffic(f"http://{host}:{port}", rounds=2) == [200] * 4


async def test_a_body_that_fits_still_works_and_a_slow_one_gets_408(server):
    host, port = server
    body = message_body("fits", "路灯坏了")
    reader, writer = await asyncio.open_connection(host, port)
    head = (f"POST /webhooks/generic HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in signed_headers(SECRET, body).items())
            + "\r\n")  # fmt: skip
    writer.write(head.encode() + body[:10])
    await writer.drain()
    assert (await _status_line(reader)).startswith(b"HTTP/1.1 408")  # the rest never came
    writer.close()
    assert await _normal_traffic(f"http://{host}:{port}", rounds=1) == [200, 200]


async def test_a_multipart_form_is_still_read_after_the_body_check(server):
    host, port = server
    form = aiohttp.FormData()
    form.add_field("username", "nobody")
    form.add_field("password", "wrong")
    form.add_field("photo", b"\x89PNG" * 100, filename="a.png", content_type="image/png")
    async with aiohttp.ClientSession() as session:
        async with session.post(f"http://{host}:{port}/admin/login", data=form) as resp:
            assert resp.status < 500, await resp.text()


@pytest.mark.parametrize(
    "knob, value",
    [("idle_timeout_seconds", 0), ("body_timeout_seconds", -1), ("linger_seconds", 100),
     ("max_header_line_bytes", 10), ("max_header_field_bytes", "big")],
)  # fmt: skip
def test_each_wrong_limit_is_named(tmp_path: Path, knob: str, value: object) -> None:
    with pytest.raises(ConfigError, match=rf"http\.{knob}"):
        make_settings(tmp_path, "sqlite+aiosqlite:///x.db", "redis://x", NO_NLU, None,
                      {"http": {knob: value}})  # fmt: skip
