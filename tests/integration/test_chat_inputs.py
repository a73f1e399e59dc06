"""`linli chat` on anything a terminal can deliver: every line reaches the server and is stored.

Hypothesis writes stdin: unicode lines, control characters, bytes that are not UTF-8, lines
far longer than one message, and input that ends in the middle of a line. The chat client
talks to the real app on a port; afterwards the messages table holds every line, in order.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import re
from contextlib import redirect_stdout

import aiohttp
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.cli.chat import MAX_PART_CHARS, ChatClient
from bot.messaging.ingest import clean_text
from storage.messages import Message
from storage.residents import Conversation
from tests.db_helpers import fetch
from tests.support import SECRET

NO_NLU = "http://127.0.0.1:9"
CONTROL = st.text(alphabet=[chr(c) for c in (*range(0, 32), 127, 0x85, 0x2028)], max_size=20)
LONG = st.text(alphabet="路灯坏了东关中巷 abc", min_size=MAX_PART_CHARS - 5, max_size=5000)
line_text = st.one_of(st.text(max_size=200), CONTROL, LONG, st.just("东关中巷的路灯坏了"))
line_bytes = line_text.map(lambda t: t.encode("utf-8", "surrogatepass")) | st.binary(max_size=100)
stdin = st.tuples(st.lists(line_bytes, max_size=6), st.booleans()).map(
    lambda t: b"\n".join(t[0]) + (b"\n" if t[1] and t[0] else b"")
)


def expected_messages(data: bytes) -> list[str]:
    """What should be stored: each non-blank line, decoded leniently, in parts, cleaned."""
    texts = []
    for raw in re.findall(rb"[^\n]*\n|[^\n]+$", data):  # readline's lines
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if line.strip():
            for start in range(0, len(line), MAX_PART_CHARS):
                texts.append(clean_text(line[start : start + MAX_PART_CHARS]))
    return texts


def _is_identity_command(data: bytes) -> bool:
    return any(
        line.strip() == "/as" or line.strip().startswith("/as ")
        for line in data.decode("utf-8", "replace").split("\n")
    )


async def test_every_typed_line_is_stored_whatever_it_holds(make_client, db_url):
    client = await make_client(NO_NLU, worker_role=False)
    server = str(client.make_url("")).rstrip("/")
    loop = asyncio.get_running_loop()
    users = itertools.count()
    examples = 0

    async def type_into_chat(data: bytes, user: str) -> tuple[int, str, list[str]]:
        chat = ChatClient(server, SECRET, user, ("127.0.0.1", 0))
        shown = io.StringIO()
        async with aiohttp.ClientSession() as session:
            with redirect_stdout(shown):
                accepted = await chat.talk(session, io.BytesIO(data), pause=0)
        stored = await fetch(
            db_url,
            select(Message.text)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.user_id == user, Message.direction == "in")
            .order_by(Message.id),
        )
        return accepted, shown.getvalue(), stored

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(stdin)
    @example(("东关中巷路灯" * 20000).encode())  # 120,000 characters: over the body limit whole
    @example(
        b"\xff\xfe\xc3 not utf-8\r\n\x00\x01\x1b[31m\n\n   \n\xe8\xb7\xaf\xe7"
    )  # ends mid-line
    def typing(data: bytes) -> None:
        nonlocal examples
        assume(not _is_identity_command(data))
        examples += 1
        user = f"fuzz-{next(users)}"
        future = asyncio.run_coroutine_threadsafe(type_into_chat(data, user), loop)
        accepted, shown, stored = future.result(timeout=120)
        wanted = expected_messages(data)
        assert "服务器返回" not in shown and "连不上" not in shown, shown[-500:]
        assert stored == wanted and accepted == len(wanted)
        if any(len(line) > MAX_PART_CHARS for line in data.decode("utf-8", "replace").split("\n")):
            assert "分" in shown and "条发送" in shown  # the resident is told the line was split

    await asyncio.to_thread(typing)
    assert examples >= 20


async def test_identity_switches_are_checked(make_client, db_url):
    client = await make_client(NO_NLU, worker_role=False)
    server = str(client.make_url("")).rstrip("/")
    chat = ChatClient(server, SECRET, "someone", ("127.0.0.1", 0))
    typed = "/as\n/as " + "x" * 200 + "\n/as two words\n/asworker\n/as worker-li\n接单 1001"
    shown = io.StringIO()
    async with aiohttp.ClientSession() as session:
        with redirect_stdout(shown):
            accepted = await chat.talk(session, io.BytesIO(typed.encode()), pause=0)
    assert accepted == 2 and chat.user_id == "worker-li"
    assert shown.getvalue().count("[身份要一个不含空格的词") == 2
    mine = await fetch(
        db_url,
        select(Message.text)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.user_id == "someone"),
    )
    assert mine == ["/asworker"]  # not a command: a sentence like any other
