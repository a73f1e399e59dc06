"""The `linli` command (entry point `bot.cli:main`): serve, run, chat, db, admin, outbox, nlu."""

from bot.cli.main import main

__all__ = ["main"]
