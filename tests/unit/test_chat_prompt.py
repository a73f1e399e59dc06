"""`linli chat` shows one prompt per turn, however the replies and the typing interleave."""

from __future__ import annotations

import asyncio
import io

import aiohttp
import pytest

from bot.cli.chat import PROMPT, ChatClient


class _Echo(ChatClient):
    """A client whose server answers every line at once (the reply lands while it pauses)."""

    async def send(self, session: aiohttp.ClientSession, text: str) -> str:
        await self.replies.put(f"收到：{text}")
        return ""


async def test_a_reply_arriving_after_a_line_leaves_one_prompt(
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = _Echo("http://127.0.0.1:1", "s" * 32, "me", ("127.0.0.1", 0))
    printer = asyncio.create_task(client._print_replies())
    async with aiohttp.ClientSession() as session:
        await client.talk(session, io.BytesIO("路灯坏了\n东关中巷\n".encode()), pause=0.05)
    await asyncio.sleep(0.05)
    printer.cancel()
    out = capsys.readouterr().out
    assert PROMPT + PROMPT not in out
    assert "你 > 你 >" not in out.replace("\n", " ")
    assert out.count("邻里 > 收到：") == 2
    assert out.count(PROMPT) == 3  # before each line, and one waiting after the last reply
