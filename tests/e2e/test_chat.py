"""`linli chat` as a person would use it: type a report, see the bot's answer."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from tests.support import SECRET, make_settings

pytestmark = pytest.mark.rasa


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def read_until(stream: asyncio.StreamReader, needle: str, within: float) -> str:
    seen = ""
    async with asyncio.timeout(within):
        while needle not in seen:
            chunk = await stream.read(1024)
            if not chunk:
                break
            seen += chunk.decode(errors="replace")
    return seen


async def test_chat_shows_the_bots_reply(tmp_path, db_url, redis_url, rasa_url):
    port = free_port()
    settings = make_settings(
        tmp_path, db_url, redis_url, rasa_url, f"http://127.0.0.1:{port}/outbound"
    )
    server = TestServer(create_app(settings))
    await server.start_server()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "chat", "--server", str(server.make_url("")),
        "--port", str(port), "--user", "chat-tester",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "LINLI_GENERIC_SECRET": SECRET},
    )  # fmt: skip
    try:
        assert proc.stdin is not None and proc.stdout is not None
        await read_until(proc.stdout, "你 >", 20)
        proc.stdin.write("东关中巷的路灯坏了\n".encode())
        await proc.stdin.drain()
        output = await read_until(proc.stdout, "对吗", 30)
        assert "邻里 >" in output and "东关中巷" in output
        proc.stdin.write(b"1\n")
        await proc.stdin.drain()
        assert "工单号" in await read_until(proc.stdout, "工单号", 30)
        proc.stdin.close()
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
        await server.close()
