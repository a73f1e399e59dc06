"""`linli db upgrade` / `linli db seed`: migrate the database, and load the demo community."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.cli.settings import settings_or_exit
from bot.config import Settings
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.seed import read_seed, seed_all


async def seed(settings: Settings) -> int:
    """Load the demo community named in config.yml."""
    data = await asyncio.to_thread(read_seed, settings.config_path.parent / settings.file.seed_file)
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await seed_all(session, data)
    finally:
        await engine.dispose()


def cmd_db(args: argparse.Namespace) -> int:
    """Migrate the database and/or load the demo community."""
    settings = settings_or_exit()
    upgrade(settings.database_url)
    if args.db_command == "seed":
        print(f"seeded {asyncio.run(seed(settings))} new items of demo data")
    return 0


def add_commands(sub: Any) -> None:
    """Add `db upgrade` and `db seed` to the linli parser."""
    db = sub.add_parser("db", help="database: upgrade (migrate) or seed (migrate + demo data)")
    db.add_argument("db_command", choices=("upgrade", "seed"))
    db.set_defaults(func=cmd_db)
