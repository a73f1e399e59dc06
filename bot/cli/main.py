"""The `linli` command: serve, run (everything local), chat, db, admin, outbox and nlu."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path

import nlu.cli
from bot.cli import admin, db, outbox
from bot.cli.devenv import DEFAULT_CHAT_PORT, dev_env_file, ensure_dev_env, read_env_file
from bot.cli.settings import settings_or_exit
from storage.migrate import upgrade

log = logging.getLogger("linli")

# serve, run and chat import their modules when they run, not at the top of this one: those
# import the whole service (aiohttp, SQLAlchemy, saq, the handlers, jionlp: about 2 s here),
# which `linli --help`, `linli db`, `linli admin`, `linli outbox` and `linli nlu` never need.


def _logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web surface and/or the worker."""
    from bot.cli.serve import run_loop, serve  # heavy: see the note at the top

    settings = settings_or_exit()
    if args.migrate:
        upgrade(settings.database_url)
    run_loop(
        serve(
            settings,
            web_role=args.role in ("all", "web"),
            worker_role=args.role in ("all", "worker"),
        )
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Everything on one machine: migrate, seed, train, start Rasa and serve."""
    from bot.cli.run import run_local  # heavy: see the note at the top

    ensure_dev_env(Path(os.environ.get("LINLI_VAR_DIR", "var")))
    return run_local(settings_or_exit())


def cmd_chat(args: argparse.Namespace) -> int:
    """Talk to a running server as a resident."""
    from bot.cli.chat import ChatClient  # aiohttp's client and server: see the note at the top

    var_dir = Path(os.environ.get("LINLI_VAR_DIR", "var"))
    secret = os.environ.get("LINLI_GENERIC_SECRET") or read_env_file(dev_env_file(var_dir)).get(
        "LINLI_GENERIC_SECRET"
    )
    if not secret:
        print("linli chat: set LINLI_GENERIC_SECRET (or start the server with `make run`)")
        return 2
    host = os.environ.get("LINLI_HTTP_HOST", "127.0.0.1")
    port = os.environ.get("LINLI_HTTP_PORT", "8080")
    server = args.server or f"http://{host}:{port}"
    client = ChatClient(server, secret, args.user, ("127.0.0.1", args.port or DEFAULT_CHAT_PORT))
    return asyncio.run(client.run())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="linli", description="邻里 Linli community service bot")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server and worker")
    serve.add_argument("--role", choices=("all", "web", "worker"), default="all")
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    serve.set_defaults(func=cmd_serve)
    run = sub.add_parser("run", help="everything local: migrate, seed, train, Rasa, server")
    run.set_defaults(func=cmd_run)
    chat = sub.add_parser("chat", help="chat with a running server as a resident")
    chat.add_argument("--server", help="server URL (default from LINLI_HTTP_HOST/PORT)")
    chat.add_argument("--user", default=f"terminal-{os.getuid()}", help="your user id")
    chat.add_argument("--port", type=int, help="port of the reply receiver (default 8089)")
    chat.set_defaults(func=cmd_chat)
    db.add_commands(sub)
    admin.add_commands(sub)
    outbox.add_commands(sub)
    nlu_parser = sub.add_parser("nlu", help="train, evaluate or predict with the Rasa model")
    nlu.cli.add_commands(nlu_parser.add_subparsers(dest="nlu_command", required=True))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `linli` console script."""
    args = build_parser().parse_args(argv)
    _logging(args.verbose)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
