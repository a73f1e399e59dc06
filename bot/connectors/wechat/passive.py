"""WeChat passive replies: the first answer goes back in the callback's own HTTP response.

WeChat waits 5 s for a callback's response and shows its body to the user as the answer.
While the callback waits (config.yml `wechat.passive_reply_seconds`, 4 s), a hold in Redis
tells the outbox not to send that message's replies through the API (WeChatConnector.send
answers "not now"). When the first reply is written, the callback claims it with the same
conditional UPDATE the outbox uses (PENDING -> SENDING under a lease, only when no earlier
reply of the chat is unsent), so it can never also go through the API; further replies
stay in the outbox and follow in order once the first is marked sent.

If the response cannot be written after the claim (the connection is gone), the claim is
released at once and the outbox sends the reply through the API: it is not lost. If the
process dies between writing and marking it sent, the lease expires and the outbox sends
it again: a rare duplicate is preferred to a lost answer (at least once, as everywhere).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.connectors.tencent.callbacks import split_text
from bot.connectors.tencent.crypto import WXBizMsgCrypt
from bot.runtime import RUNTIME, Runtime
from storage.outbox import Delivery, claim_first_reply, mark_sent, release_claim

log = logging.getLogger(__name__)
POLL_SECONDS = 0.1
LEASE_SECONDS = 30


def hold_key(app_id: str, platform_msg_id: str) -> str:
    """Redis key that keeps the outbox off one inbound message's replies."""
    return f"linli:wechat:passive:{{{app_id}}}:{platform_msg_id}"


def cdata(text: str) -> str:
    """A CDATA section holding any text (a "]]>" inside is split across two sections)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def reply_xml(fields: dict[str, str], text: str) -> bytes:
    """The passive text reply to a callback: to its sender, from the account it was sent to."""
    return (
        f"<xml><ToUserName>{cdata(fields['FromUserName'])}</ToUserName>"
        f"<FromUserName>{cdata(fields.get('ToUserName', ''))}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(text)}</Content></xml>"
    ).encode()


class PassiveReplies:
    """Holds one callback's replies back from the outbox and answers the first in-response."""

    def __init__(self, platform: str, app_id: str, seconds: float) -> None:
        self.platform = platform
        self.app_id = app_id
        self.seconds = seconds

    async def hold(self, redis: Redis, platform_msg_id: str) -> bool:
        """Keep the outbox off this message's replies while the callback waits; False: no."""
        if self.seconds <= 0:
            return False
        try:
            key = hold_key(self.app_id, platform_msg_id)
            ms = int((self.seconds + 1) * 1000)
            return bool(await redis.set(key, uuid.uuid4().hex, px=ms, nx=True))
        except (RedisError, OSError) as exc:
            log.warning("no passive reply (Redis: %s)", exc)
            return False

    async def unhold(self, redis: Redis, platform_msg_id: str) -> None:
        """Let the outbox have the replies (a failure just lets the hold expire)."""
        try:
            await redis.delete(hold_key(self.app_id, platform_msg_id))
        except (RedisError, OSError) as exc:
            log.warning("passive hold not removed (Redis: %s); it expires by itself", exc)

    async def held_for(self, redis: Redis, platform_msg_id: str) -> float | None:
        """Seconds left on a hold of this message's replies, or None when there is none."""
        try:
            ms = await redis.pttl(hold_key(self.app_id, platform_msg_id))
        except (RedisError, OSError):
            return None
        return ms / 1000 if ms and ms > 0 else None

    async def claim(
        self, runtime: Runtime, platform_msg_id: str, deadline: float
    ) -> Delivery | None:
        """Wait until the deadline for the first reply and claim it; None when it cannot be."""
        loop = asyncio.get_running_loop()
        while True:
            async with runtime.sessions() as session, session.begin():
                got = await claim_first_reply(
                    session, self.platform, platform_msg_id, LEASE_SECONDS
                )
            if isinstance(got, Delivery):
                if len(split_text(got.text)) == 1:
                    return got
                await self.release(runtime, got, "too long for a passive reply")
                return None
            if got is False or loop.time() + POLL_SECONDS > deadline:
                return None
            await asyncio.sleep(POLL_SECONDS)

    async def release(self, runtime: Runtime, delivery: Delivery, why: str) -> None:
        """Give a claimed reply back to the outbox and wake it."""
        async with runtime.sessions() as session, session.begin():
            await release_claim(session, delivery.message_id, f"passive reply not sent: {why}")
        runtime.wake_outbox()

    async def answer(
        self,
        request: web.Request,
        fields: dict[str, str],
        msg_id: str,
        accepted_at: float,
        crypt: WXBizMsgCrypt | None,
    ) -> web.StreamResponse | None:
        """Write the first reply as the response (encrypted when crypt); None: answer success."""
        runtime = request.app[RUNTIME]
        deadline = accepted_at + self.seconds
        try:
            delivery = await self.claim(runtime, msg_id, deadline)
        finally:
            await asyncio.shield(self.unhold(runtime.redis, msg_id))
        if delivery is None:
            return None
        body = reply_xml(fields, delivery.text)
        if crypt is not None:
            body = crypt.encrypt_message(body, str(int(time.time())), uuid.uuid4().hex[:10])
        resp = web.Response(body=body, content_type="text/xml", charset="utf-8")
        try:
            await resp.prepare(request)
            await resp.write_eof()
        except (OSError, RuntimeError) as exc:
            log.info(
                "passive reply %s not written (%r); the API sends it", delivery.message_id, exc
            )
            await self.release(runtime, delivery, repr(exc))
            return resp
        except asyncio.CancelledError:  # the server dropped the request: hand the reply back
            await asyncio.shield(self.release(runtime, delivery, "request cancelled"))
            raise
        async with runtime.sessions() as session, session.begin():
            await mark_sent(session, delivery.message_id)
        runtime.wake_outbox()  # the next replies may go now
        return resp
