"""What the fake WeCom and WeChat APIs share: tokens, recorded sends and injected faults."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


def xml_of(fields: dict[str, str | int]) -> bytes:
    """A flat <xml> callback document as the platforms write it."""
    parts = "".join(
        f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>"
        for k, v in fields.items()
    )
    return f"<xml>{parts}</xml>".encode()


@dataclass
class Send:
    """One recorded send call."""

    path: str
    body: dict[str, Any]
    at: float


@dataclass
class FakeAPI:
    """Token issuing and send recording with fault injection; subclasses add the routes."""

    valid_tokens: set[str] = field(default_factory=set)
    expired_tokens: set[str] = field(default_factory=set)
    token_calls: int = 0
    sends: list[Send] = field(default_factory=list)
    refused: list[Send] = field(default_factory=list)
    errcode_next: list[int] = field(default_factory=list)
    http_fail_next: int = 0
    http_fail_status: int = 503
    down: bool = False  # every send answers http_fail_status until set back
    http_failures: int = 0
    delay: float = 0.0
    server: TestServer | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def routes(self, app: web.Application) -> None:
        """Add the platform's paths."""
        raise NotImplementedError

    async def start(self) -> str:
        """Listen on a free local port; return the API base URL."""
        app = web.Application()
        self.routes(app)
        self.server = TestServer(app)
        await self.server.start_server()
        return str(self.server.make_url("")).rstrip("/")

    async def close(self) -> None:
        """Stop listening."""
        if self.server is not None:
            await self.server.close()

    def issue_token(self) -> dict[str, Any]:
        """A new token valid for two hours (old ones stay valid, as on the real platforms)."""
        self.token_calls += 1
        token = f"tok-{self.token_calls}-{uuid.uuid4().hex[:8]}"
        self.valid_tokens.add(token)
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def expire_tokens(self) -> None:
        """Every token issued so far is now expired (the next send with one gets 42001)."""
        self.expired_tokens |= self.valid_tokens
        self.valid_tokens = set()

    def token_error(self, token: str) -> dict[str, Any] | None:
        """The platform's answer to a bad token, or None when it is good."""
        if token in self.expired_tokens:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if token not in self.valid_tokens:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        return None

    async def record(self, request: web.Request, check_token: bool = True) -> web.Response:
        """Answer a send call: faults first, then the token, then record it."""
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.down or self.http_fail_next > 0:
            self.http_fail_next = max(0, self.http_fail_next - 1)
            self.http_failures += 1
            return web.Response(status=self.http_fail_status, text="upstream down")
        body = json.loads(await request.read())
        send = Send(request.path, body, time.monotonic())
        if check_token:
            refused = self.token_error(request.query.get("access_token", ""))
            if refused:
                self.refused.append(send)
                return web.json_response(refused)
        if self.errcode_next:
            code = self.errcode_next.pop(0)
            self.refused.append(send)
            return web.json_response({"errcode": code, "errmsg": "injected"})
        self.sends.append(send)
        self.arrived.set()
        return web.json_response(self.ok_answer())

    def ok_answer(self) -> dict[str, Any]:
        """What a successful send answers."""
        return {"errcode": 0, "errmsg": "ok"}

    def texts(self, path_end: str = "send") -> list[str]:
        """Texts of the recorded sends, in order."""
        return [
            s.body.get("text", {}).get("content", "")
            for s in self.sends
            if s.path.endswith(path_end)
        ]

    async def wait_for(self, count: int, within: float = 30.0) -> list[Send]:
        """Wait until at least count sends were recorded."""
        deadline = time.monotonic() + within
        while len(self.sends) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} sends, got {len(self.sends)}")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), timeout=0.2)
            except TimeoutError:
                pass
        return self.sends
