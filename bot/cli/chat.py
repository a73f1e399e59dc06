"""`linli chat`: a resident in the terminal, talking to a running server like a platform would."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import uuid
from typing import Any, BinaryIO

import aiohttp
from aiohttp import web

from bot.connectors.signing import signed_headers, verify_request

log = logging.getLogger(__name__)
MAX_PART_CHARS = 2000  # config.yml's http.max_text_chars: what a handler reads of one message
MAX_USER_ID = 128  # the generic connector's limit on ids
PROMPT = "你 > "
SEND_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=3)


def split_line(line: str, size: int = MAX_PART_CHARS) -> list[str]:
    """A typed line as messages of at most `size` characters each (a long line is not cut)."""
    return [line[i : i + size] for i in range(0, len(line), size)] or [""]


def decode_line(raw: bytes) -> tuple[str, bool]:
    """The line as text without its line end, and whether undecodable bytes were replaced."""
    try:
        return raw.decode("utf-8").rstrip("\r\n"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace").rstrip("\r\n"), True


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
        self._prompting = False  # "你 > " is on the screen, waiting for a line

    def prompt(self) -> None:
        """Show "你 > " unless it is already showing: one prompt per turn."""
        if not self._prompting:
            print(PROMPT, end="", flush=True)
            self._prompting = True

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
        headers = signed_headers(self.secret, body)
        try:
            async with session.post(url, data=body, headers=headers, timeout=SEND_TIMEOUT) as r:
                if r.status == 200:
                    return ""
                detail = (await r.text(errors="replace"))[:200]
                return f"[服务器返回 {r.status}: {detail}]"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"[连不上服务器 {self.server}: {exc or type(exc).__name__}]"

    async def _print_replies(self) -> None:
        while True:
            text = await self.replies.get()
            lead = "\n" if self._prompting else ""
            self._prompting = False
            print(f"{lead}邻里 > {text}", flush=True)
            self.prompt()

    def switch_user(self, command: str) -> str:
        """`/as worker-li` changes who is typing; `/as` alone says who it is."""
        wanted = command[3:].strip()
        if not wanted:
            return f"现在的身份：{self.user_id}"
        if len(wanted) > MAX_USER_ID or any(ch.isspace() or not ch.isprintable() for ch in wanted):
            return f"[身份要一个不含空格的词，最多 {MAX_USER_ID} 个字符；仍是 {self.user_id}]"
        self.user_id = wanted
        return f"现在的身份：{self.user_id}"

    async def talk(
        self, session: aiohttp.ClientSession, stream: BinaryIO, pause: float = 0.3
    ) -> int:
        """Send every line of the stream (to EOF, a last line without its end included).

        Returns how many messages were accepted; each problem is printed as one clear line.
        """
        loop = asyncio.get_running_loop()
        accepted = 0
        while True:
            self.prompt()
            raw = await loop.run_in_executor(None, stream.readline)
            self._prompting = False  # the line typed after it ends the prompt
            if not raw:
                return accepted
            line, replaced = decode_line(raw)
            if replaced:
                print("[这一行有无法识别的字节，已用 \ufffd 代替]")
            command = line.strip()
            if command == "/as" or command.startswith("/as "):
                print(self.switch_user(command))
                continue
            if not command:
                continue
            parts = split_line(line)
            if len(parts) > 1:
                print(f"[这一行有 {len(line)} 个字，分 {len(parts)} 条发送]")
            for part in parts:
                problem = await self.send(session, part)
                if problem:
                    print(problem)
                else:
                    accepted += 1
            await asyncio.sleep(pause)

    async def run(self, stream: BinaryIO | None = None) -> int:
        """Read lines from stdin until EOF, printing replies as they arrive."""
        app = web.Application()
        app.router.add_post("/outbound", self.receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.listen[0], self.listen[1]).start()
        printer = asyncio.create_task(self._print_replies())
        print(f"已连接 {self.server}，您的身份是 {self.user_id}。输入文字后回车发送，Ctrl-D 退出。")
        async with aiohttp.ClientSession() as session:
            await self.talk(session, stream or sys.stdin.buffer)
        await asyncio.sleep(1.0)
        printer.cancel()
        await runner.cleanup()
        return 0
