"""Hostile input, property-based: parsers and text helpers answer or refuse, never crash."""

from __future__ import annotations

import json

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli.chat import MAX_PART_CHARS, decode_line, split_line
from bot.connectors.base import InboundEvent
from bot.connectors.generic import parse_body
from bot.connectors.tencent.callbacks import read_callback
from bot.connectors.tencent.crypto import CryptoError, WXBizMsgCrypt
from handlers.commands import parse_command
from handlers.dialogue import choice_number, is_cancel, is_status_command
from handlers.rating import rating_of
from nlu.normalize import normalize

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"  # the WeCom documentation's test key
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)
FIELDS = ("message_id", "user_id", "chat_id", "text", "timestamp", "user_name", "is_group",
          "mentioned")  # fmt: skip


@FAST
@given(st.binary(max_size=2048))
def test_generic_parser_on_arbitrary_bytes(body: bytes) -> None:
    assert isinstance(parse_body(body), InboundEvent | str)


@FAST
@given(st.fixed_dictionaries({}, optional={f: json_values for f in FIELDS}))
def test_generic_parser_on_wrongly_typed_fields(data: dict) -> None:
    result = parse_body(json.dumps(data).encode())
    if isinstance(result, InboundEvent):
        assert result.message_id.strip() and isinstance(result.text, str)
    else:
        assert result  # a reason a person can read


@FAST
@given(st.binary(max_size=4096) | st.text(max_size=2048).map(str.encode))
def test_platform_callbacks_on_arbitrary_bytes(body: bytes) -> None:
    result = read_callback("wechat", lambda: body)
    if isinstance(result, web.Response):
        assert result.status in (400, 401)


@FAST
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
               max_size=400))  # fmt: skip
def test_decryption_refuses_garbage_cleanly(encrypted: str) -> None:
    crypt = WXBizMsgCrypt("QDG6eK", KEY, "wx5823bf96d3bd56c7")
    with pytest.raises(CryptoError):  # refused, never accepted, never another exception
        crypt.decrypt(encrypted)


@FAST
@given(st.text(max_size=300))
def test_text_helpers_on_anything_a_resident_can_type(text: str) -> None:
    norm = normalize(text)
    for start in range(0, len(norm.text) + 1, max(1, len(norm.text) // 5 or 1)):
        a, b = norm.to_original(start, len(norm.text))
        assert 0 <= a <= b <= len(text)
    parse_command(text, ["接单", "完成", "我的任务"])
    choice_number(text)
    is_cancel(text)
    is_status_command(text)
    score = rating_of(text)
    assert score is None or 1 <= score <= 5


@FAST
@given(st.text(max_size=3 * MAX_PART_CHARS) | st.text(alphabet="路灯", max_size=5000))
def test_chat_splits_long_lines_without_losing_a_character(line: str) -> None:
    parts = split_line(line)
    assert "".join(parts) == line and all(len(p) <= MAX_PART_CHARS for p in parts)
    assert len(parts) == max(1, -(-len(line) // MAX_PART_CHARS))


@FAST
@given(
    st.binary(max_size=512)
    | st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))
)
def test_chat_decodes_any_bytes_a_terminal_sends(raw: bytes) -> None:
    text, replaced = decode_line(raw)
    assert not text.endswith(("\n", "\r"))
    try:
        assert raw.decode("utf-8").rstrip("\r\n") == text and not replaced
    except UnicodeDecodeError:
        assert replaced and "\ufffd" in text
