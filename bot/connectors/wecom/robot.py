"""WeCom group robots (群机器人): text and markdown pushes to a group chat, paced per robot.

For grid-group pushes. A push over the robot's limit (config.yml `pacing.wecom_robot`,
20 a minute) is not sent and not dropped: SendError carries retry_after, and the caller's
queue (the outbox) tries again then.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bot.connectors.base import SendError
from bot.connectors.pacing import SlidingWindowLimiter, Window, paced
from bot.connectors.tencent.tokens import errcode, get_json
from bot.connectors.wecom.codes import PERMANENT, RATE_LIMITED

log = logging.getLogger(__name__)
INVALID_KEY = frozenset({93000})  # invalid webhook key


class GroupRobot:
    """One robot, identified by the key of its webhook URL (a secret: never logged)."""

    def __init__(
        self,
        client: aiohttp.ClientSession,
        redis: Redis,
        key: str,
        *,
        api_base: str = "https://qyapi.weixin.qq.com",
        windows: Sequence[Window] = ((20, 60),),
        rate_limited_retry: float = 60,
    ) -> None:
        self.client = client
        self.key = key
        self.url = f"{api_base.rstrip('/')}/cgi-bin/webhook/send"
        self.robot_id = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.limiter = SlidingWindowLimiter(redis, "linli:wecom:robot", windows)
        self.rate_limited_retry = rate_limited_retry

    async def send_text(
        self,
        content: str,
        mentioned: Sequence[str] = (),
        mentioned_mobiles: Sequence[str] = (),
    ) -> None:
        """Push text; mentioned holds userids (or "@all"), mentioned_mobiles phone numbers."""
        text: dict[str, Any] = {"content": content}
        if mentioned:
            text["mentioned_list"] = list(mentioned)
        if mentioned_mobiles:
            text["mentioned_mobile_list"] = list(mentioned_mobiles)
        await self.push({"msgtype": "text", "text": text})

    async def send_markdown(self, content: str) -> None:
        """Push markdown (WeCom's subset; <@userid> mentions a member)."""
        await self.push({"msgtype": "markdown", "markdown": {"content": content}})

    async def push(self, payload: dict[str, Any]) -> None:
        """Send one payload, paced; errors (and "not now") become SendError."""
        await paced(self.limiter, self.robot_id)
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        try:
            data = await get_json(
                self.client,
                "POST",
                self.url,
                "webhook/send",
                params={"key": self.key},
                data=body,
                headers=headers,
            )
        except SendError as exc:  # keep the key out of logs and the outbox
            raise SendError(str(exc).replace(self.key, "***")) from None
        code = errcode(data)
        if code in RATE_LIMITED:
            raise SendError(
                f"robot {self.robot_id} rate limited", retry_after=self.rate_limited_retry
            )
        if code in INVALID_KEY or code in PERMANENT:
            raise SendError(f"robot {self.robot_id} refused: {code}", permanent=True)
        if code:
            raise SendError(f"robot {self.robot_id} push failed: {code} {data.get('errmsg')}")
