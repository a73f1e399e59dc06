"""`linli chat`: a resident in the terminal, talking to a running server like a platform would."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from typing import Any

import aiohttp
from aiohttp import web

from bot.connectors.signing import signed_headers, verify_request


class ChatClient:
    """Signs and posts typed lines; a small receiver prints the bot's replies.

    It is the whole demo in one terminal: pushes to other people (the grid worker's task
    card, the leader's escalation) are shown too, marked with who received them, and
    `/as worker-li` switches who you are typing as (`/as` alone shows who you are).
    """

    def __init__(self, server: str, secret: str, user_id: str, listen: tuple[str, int]) -> None:
        self.server = server.rstrip("/")
        self.secret = secret
        self.user_id = user_id
        self.listen = listen
        self.replies: asyncio.Queue[str] = asyncio.Queue()
        self._seen: set[str] = set()

    async def receive(self, request: web.Request) -> web.Response:
        """The outbound URL: verify the server's signature and show replies meant for us."""
        body = await request.read()
        reason = verify_request(self.secret, request.headers, body, 300)
        if reason:
            return web.json_response({"error": reason}, status=401)
        data: dict[str, Any] = json.loads(body)
        if data.get("message_id") not in self._seen:
            self._seen.add(str(data.get("message_id")))
            who = str(data.get("user_id"))
            mark = "" if who == self.user_id else f"（发给 {who}）"
            await self.replies.put(f"{mark}{data.get('text', '')}")
        return web.json_response({"ok": True})

    async def send(self, session: aiohttp.ClientSession, text: str) -> str:
        """Post one signed message; return an error line or ''."""
        payload = {
            "message_id": uuid.uuid4().hex,
            "user_id": self.user_id,
            "chat_id": self.user_id,
            "text": text,
            "timestamp": int(time.time()),
            "user_name": "终端用户",
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        url = f"{self.server}/webhooks/generic"
        try:
            async with session.post(url, data=body, headers=signed_headers(self.secret, body)) as r:
                return "" if r.status == 200 else f"[服务器返回 {r.status}: {await r.text()}]"
        except aiohttp.ClientError as exc:
            return f"[连不上服务器 {self.server}: {exc}]"

    async def _print_replies(self) -> None:
        while True:
            text = await self.replies.get()
            print(f"\n邻里 > {text}\n你 > ", end="", flush=True)

    async def run(self) -> int:
        """Read lines from stdin until EOF, printing replies as they arrive."""
        app = web.Application()
        app.router.add_post("/outbound", self.receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.listen[0], self.listen[1]).start()
        printer = asyncio.create_task(self._print_replies())
        print(f"已连接 {self.server}，您的身份是 {self.user_id}。输入文字后回车发送，Ctrl-D 退出。")
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession() as session:
            while True:
                print("你 > ", end="", flush=True)
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line:
                    break
                if line.strip().startswith("/as"):
                    self.user_id = line.strip()[3:].strip() or self.user_id
                    print(f"现在的身份：{self.user_id}")
                elif line.strip():
                    problem = await self.send(session, line.rstrip("\n"))
                    if problem:
                        print(problem)
                    await asyncio.sleep(0.3)
        await asyncio.sleep(1.0)
        printer.cancel()
        await runner.cleanup()
        return 0
