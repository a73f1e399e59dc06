"""Turn a WeCom or WeChat callback (its XML fields) into an InboundEvent.

Both platforms use the same message XML. What becomes text:

| MsgType / Event          | text                                        | attachments          |
|--------------------------|---------------------------------------------|----------------------|
| text                     | Content                                     |                      |
| voice                    | Recognition, or "[语音]" without it         | media:MediaId        |
| image                    | "[图片]"                                     | media:MediaId, PicUrl|
| video, shortvideo        | "[视频]"                                     | media:MediaId        |
| location                 | Label, or "纬度 X 经度 Y"                     | geo:X,Y              |
| link                     | "[链接] Title"                               | Url                  |
| event subscribe          | "你好" (a new follower is greeted)           |                      |
| event enter_agent (WeCom)| "你好" (the member opened the app)           |                      |
| event click / CLICK      | the menu item's EventKey (configure keys as the words to say) |  |

Anything else (unsubscribe, view, LOCATION reports, scan, unknown types) is acknowledged
and not stored: None.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web

from bot.connectors.base import InboundEvent
from bot.connectors.tencent.crypto import CryptoError, SignatureError, parse_xml
from bot.responses import error

log = logging.getLogger(__name__)
GREETING = "你好"
_PLACEHOLDERS = {"image": "[图片]", "video": "[视频]", "shortvideo": "[视频]", "voice": "[语音]"}
_GREETING_EVENTS = {"subscribe", "enter_agent"}


class BadMessage(ValueError):
    """The decrypted callback lacks what every message has."""


def _text_and_attachments(fields: dict[str, str]) -> tuple[str, tuple[str, ...]] | None:
    kind = fields.get("MsgType", "").lower()
    media = (f"media:{fields['MediaId']}",) if fields.get("MediaId") else ()
    if kind == "text":
        return fields.get("Content", ""), ()
    if kind == "voice" and fields.get("Recognition"):
        return fields["Recognition"], media
    if kind == "image":
        return _PLACEHOLDERS[kind], media + ((fields["PicUrl"],) if fields.get("PicUrl") else ())
    if kind in _PLACEHOLDERS:
        return _PLACEHOLDERS[kind], media
    if kind == "location":
        lat, lng = fields.get("Location_X", ""), fields.get("Location_Y", "")
        label = fields.get("Label", "")
        return (label or f"纬度 {lat} 经度 {lng}"), ((f"geo:{lat},{lng}",) if lat and lng else ())
    if kind == "link":
        return f"[链接] {fields.get('Title', '')}".strip(), (
            (fields["Url"],) if fields.get("Url") else ()
        )
    if kind == "event":
        event = fields.get("Event", "").lower()
        if event in _GREETING_EVENTS:
            return GREETING, ()
        if event == "click" and fields.get("EventKey"):
            return fields["EventKey"], ()
    return None


def _message_id(fields: dict[str, str]) -> str:
    if fields.get("MsgId"):
        return fields["MsgId"]
    parts = [fields["FromUserName"], fields["CreateTime"], fields.get("Event", "").lower()]
    if fields.get("EventKey"):
        parts.append(fields["EventKey"])
    key = ":".join(parts)
    return key if len(key) <= 128 else "ev:" + hashlib.sha256(key.encode()).hexdigest()


def to_event(platform: str, fields: dict[str, str]) -> InboundEvent | None:
    """The InboundEvent of a callback, or None for callbacks that need no answer."""
    sender, created = fields.get("FromUserName", ""), fields.get("CreateTime", "")
    if not sender or len(sender) > 128:
        raise BadMessage("FromUserName missing or too long")
    if not (created.isascii() and created.isdigit()) or len(created) > 11:
        raise BadMessage("CreateTime is not unix seconds")
    if not fields.get("MsgType"):
        raise BadMessage("MsgType missing")
    parsed = _text_and_attachments(fields)
    if parsed is None:
        log.info(
            "%s callback %r/%r from %r acknowledged, not stored",
            platform,
            fields.get("MsgType"),
            fields.get("Event", ""),
            sender,
        )
        return None
    text, attachments = parsed
    return InboundEvent(
        platform=platform,
        message_id=_message_id(fields),
        user_id=sender,
        chat_id=sender,
        text=text,
        timestamp=datetime.fromtimestamp(int(created), UTC),
        attachments=attachments,
    )


def split_text(text: str, max_bytes: int = 2000) -> list[str]:
    """Cut a reply into pieces of at most max_bytes of UTF-8, at line breaks when possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True) or [""]:
        while len(line.encode()) > max_bytes:
            cut = len(line.encode()[:max_bytes].decode(errors="ignore"))
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        if len((current + line).encode()) > max_bytes:
            pieces.append(current)
            current = ""
        current += line
    pieces.append(current)
    return [p.strip("\n") for p in pieces if p.strip()] or [text]


def read_callback(
    platform: str, read_xml: Callable[[], bytes]
) -> tuple[dict[str, str], InboundEvent | None] | web.Response:
    """Decrypt and parse a callback: its fields and event, or the 401/400 error response."""
    try:
        fields = parse_xml(read_xml())
        return fields, to_event(platform, fields)
    except SignatureError as exc:
        return error(401, "bad_signature", str(exc))
    except (CryptoError, BadMessage) as exc:
        return error(400, "bad_request", str(exc))
