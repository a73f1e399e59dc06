"""The app factory: all wiring in one place; live parts are created in cleanup contexts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable

from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from sqlalchemy import or_, select

from bot.config import Settings
from bot.connectors.base import Connector, InboundEvent
from bot.connectors.generic import GenericConnector
from bot.connectors.wechat.connector import WeChatConnector
from bot.connectors.wecom.connector import WeComConnector
from bot.messaging.consumer import QueueConsumer
from bot.messaging.ingest import accept
from bot.messaging.outbox.enqueue import OutboxEnqueuer, outbox_queue
from bot.messaging.outbox.send import Deliverer, quiet_saq_log
from bot.messaging.sweeper import sweep_forever
from bot.responses import error_middleware
from bot.runtime import RUNTIME, SETTINGS, Runtime, services_from
from bot.scheduler import JobScheduler
from bot.tasks import background_task, cancel_and_wait
from bot.web import api, console, health, metrics, public, task_page
from bot.web.http_limits import body_limits
from handlers.faq import knowledge_base
from handlers.modules import default_jobs, default_registry
from nlu.client import NLUClient
from storage.base import utcnow
from storage.db import create_engine, session_factory
from storage.embedded_redis import EmbeddedRedis
from storage.messages import PENDING, SENDING, Message

log = logging.getLogger(__name__)


async def _bounded(step: Awaitable[object], what: str, seconds: float = 5.0) -> None:
    """Run one shutdown step, but never let it hold up the stop for more than a few seconds."""
    try:
        await asyncio.wait_for(step, timeout=seconds)
    except TimeoutError:
        log.warning("%s took over %.0f s; stopping anyway", what, seconds)


def connect_redis(url: str) -> Redis:
    """A Redis client with short connect timeouts so an outage never stalls a webhook."""
    return Redis.from_url(
        url,
        socket_connect_timeout=1,
        socket_timeout=5,
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), retries=1),
        health_check_interval=15,
    )


def build_connectors(settings: Settings) -> dict[str, Connector]:
    """Every connector that config.yml allows and whose environment variables are set."""
    connectors: dict[str, Connector] = {}
    if settings.file.connectors.generic and settings.generic_secret:
        connectors["generic"] = GenericConnector(settings)
    if settings.file.connectors.wecom and settings.wecom_corp_id:
        connectors["wecom"] = WeComConnector(settings)
    if settings.file.connectors.wechat and settings.wechat_app_id:
        connectors["wechat"] = WeChatConnector(settings)
    return connectors


def create_app(
    settings: Settings, *, web_role: bool = True, worker_role: bool = True
) -> web.Application:
    """Build the application; the worker role consumes the queue, delivers replies, runs jobs."""
    app = web.Application(
        middlewares=[error_middleware, body_limits(settings.file.http)],
        client_max_size=settings.file.http.max_body_bytes,
    )
    app[SETTINGS] = settings
    quiet_saq_log()
    knowledge_base()  # a broken handlers/faq.yml stops the start, not the first FAQ question
    connectors = build_connectors(settings)

    async def accept_event(event: InboundEvent) -> bool:
        return await accept(app[RUNTIME], event)

    if web_role:
        health.register(app)
        metrics.register(app)
        task_page.register(app)
        api.register(app)
        console.register(app)
        public.register(app)
        for connector in connectors.values():
            connector.register(app, accept_event)
    app.cleanup_ctx.append(_runtime_ctx(settings, connectors))
    if worker_role:
        app.cleanup_ctx.append(_worker_role_ctx)
    elif web_role:
        app.cleanup_ctx.append(_outbox_enqueue_ctx)
    return app


def _runtime_ctx(settings: Settings, connectors: dict[str, Connector]):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        embedded: EmbeddedRedis | None = None
        redis_url = settings.redis_url
        if redis_url == "embedded":
            embedded = EmbeddedRedis(settings.var_dir / "redis")
            redis_url = await asyncio.to_thread(embedded.start)
        redis = connect_redis(redis_url)
        engine = create_engine(settings.database_url)
        nlu = NLUClient(settings.nlu_urls)
        await nlu.start()
        for connector in connectors.values():
            await connector.start(redis)
        app[RUNTIME] = Runtime(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            redis=redis,
            nlu=nlu,
            registry=default_registry(),
            services=services_from(settings),
            connectors=connectors,
        )
        try:
            yield
        finally:
            for connector in connectors.values():
                await _bounded(connector.close(), f"closing connector {connector.platform}")
            await _bounded(nlu.close(), "closing the NLU client")
            await _bounded(redis.aclose(), "closing Redis")
            await _bounded(engine.dispose(), "closing the database pool")
            if embedded is not None:
                await asyncio.to_thread(embedded.stop)

    return ctx


async def _outbox_enqueue_ctx(app: web.Application) -> AsyncIterator[None]:
    """A web-only process enqueues the replies it commits (staff replies, passive releases)."""
    runtime = app[RUNTIME]
    enqueuer = OutboxEnqueuer(runtime, outbox_queue(runtime.redis), sweep=False)
    task = background_task(enqueuer.run(), "outbox-enqueue")
    yield
    await cancel_and_wait([task])


async def _worker_role_ctx(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    consumer = QueueConsumer(runtime)
    consuming = [
        background_task(consumer.run(), "inbound-worker"),
        background_task(sweep_forever(runtime, consumer.stopping), "sweeper"),
    ]
    deliverer = Deliverer(runtime)
    delivering = background_task(deliverer.run(), "outbox-delivery")
    scheduler = JobScheduler(runtime, default_jobs())
    scheduler.start()
    yield
    await drain(runtime, consumer, consuming, deliverer, delivering)
    scheduler.shutdown()


async def drain(
    runtime: Runtime,
    consumer: QueueConsumer,
    consuming: list[asyncio.Task[None]],
    deliverer: Deliverer,
    delivering: asyncio.Task[None],
) -> None:
    """Stop taking work, let the messages in flight and their replies finish, then cancel."""
    seconds = runtime.settings.file.worker.drain_seconds
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    await consumer.drain(seconds)  # also stops the sweeper (it watches consumer.stopping)
    await asyncio.wait(consuming, timeout=max(0.1, deadline - loop.time()))
    runtime.wake_outbox()
    await _bounded(
        _replies_sent(runtime), "sending the last replies", max(0.1, deadline - loop.time())
    )
    # Cancel the delivery loop between two sends, never in the middle of one: a send cut
    # after the platform took it is sent again, and a cancelled SQLite write holds the
    # event loop's close for up to its busy timeout.
    await deliverer.quiesce(5.0)
    await cancel_and_wait([*consuming, delivering])


async def _replies_sent(runtime: Runtime) -> None:
    """Return once the replies being sent or awaiting their first try when called are done.

    Replies in retry backoff (the platform is failing) are not waited for, nor replies
    other processes write meanwhile: any worker process sends those.
    """
    waiting = or_(
        Message.status == SENDING,
        (Message.status == PENDING)
        & (Message.attempts == 0)
        & or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= utcnow()),
    )
    query = select(Message.id).where(Message.direction == "out", waiting)
    async with runtime.sessions() as session:
        ids = list((await session.scalars(query)).all())
    while ids:
        await asyncio.sleep(0.1)
        async with runtime.sessions() as session:
            ids = list((await session.scalars(query.where(Message.id.in_(ids)))).all())
