"""`linli run`: migrate, seed, train if needed, start Rasa, serve; stop it all on a signal."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import NoReturn

from bot.cli.db import seed
from bot.cli.serve import run_loop, serve
from bot.config import Settings
from nlu.rasa_process import RasaServer, server_ready
from nlu.train import train
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.nlu_models import live_model

log = logging.getLogger(__name__)


async def recorded_live_model(database_url: str) -> Path | None:
    """The model switched in from the console (recorded live), when its file still exists."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            record = await live_model(session)
    finally:
        await engine.dispose()
    if record is None or not record.model_path:
        return None
    if not await asyncio.to_thread(Path(record.model_path).is_file):
        log.warning("live NLU model %s is gone; serving the committed data's", record.model_path)
        return None
    log.info("serving the live NLU model (candidate %s): %s", record.id, record.model_path)
    return Path(record.model_path)


def _local_rasa_needed(settings: Settings) -> bool:
    own = "LINLI_NLU_URL" not in os.environ
    return own and not server_ready(settings.nlu_urls[0])


def _interrupt(*_: object) -> NoReturn:
    raise KeyboardInterrupt


def run_local(settings: Settings) -> int:
    """Run every piece on this machine in the foreground; Ctrl-C stops all of them."""
    signal.signal(signal.SIGTERM, _interrupt)
    upgrade(settings.database_url)
    asyncio.run(seed(settings))
    rasa: RasaServer | None = None
    if _local_rasa_needed(settings):
        model = asyncio.run(recorded_live_model(settings.database_url)) or train()
        port = int(settings.nlu_urls[0].rsplit(":", 1)[-1])
        rasa = RasaServer(model, port=port)
        rasa.start()

    async def started() -> None:
        if rasa is not None:
            log.info("waiting for Rasa to load the model (about 30 s)...")
            await rasa.wait_ready_async(timeout=300)
        print(
            f"\n邻里 Linli is ready on http://{settings.http_host}:{settings.http_port}\n"
            "Chat as a resident in another terminal:  .venv/bin/linli chat\n"
            "Try: 东关中巷的路灯坏了     Stop with Ctrl-C.\n",
            flush=True,
        )

    try:
        run_loop(serve(settings, on_started=started))
    finally:
        if rasa is not None:
            log.info("stopping Rasa")
            rasa.stop(timeout=20)
    return 0
