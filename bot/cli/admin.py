"""`linli admin`: create users and print tokens for the admin API (the database of config)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from sqlalchemy import select

from bot.cli.settings import settings_or_exit
from storage.accounts import (
    ROLES,
    AccountRefused,
    audit,
    create_user,
    issue_token,
    user_by_name,
)
from storage.community import Worker
from storage.db import create_engine, session_factory
from storage.migrate import upgrade


async def _create(url: str, args: argparse.Namespace, password: str | None) -> str:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            if await user_by_name(session, args.username):
                raise SystemExit(f"linli admin: user {args.username!r} exists")
            worker_id = None
            if args.worker:
                stmt = select(Worker.id).where(Worker.name == args.worker)
                worker_id = (await session.scalars(stmt)).first()
                if worker_id is None:
                    raise SystemExit(f"linli admin: no worker named {args.worker!r}")
            try:
                user = await create_user(
                    session,
                    args.username,
                    args.role,
                    display_name=args.name,
                    password=password,
                    worker_id=worker_id,
                )
            except AccountRefused as refused:
                raise SystemExit(f"linli admin: {refused} (--worker NAME)") from None
            audit(session, "cli", "create_user", f"user:{user.username}", user.role)
            return await issue_token(session, user, "cli")
    finally:
        await engine.dispose()


async def _token(url: str, username: str) -> str:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            user = await user_by_name(session, username)
            if user is None:
                raise SystemExit(f"linli admin: no user {username!r}")
            audit(session, "cli", "issue_token", f"user:{username}")
            return await issue_token(session, user, "cli")
    finally:
        await engine.dispose()


def cmd_admin(args: argparse.Namespace) -> int:
    """Run `linli admin create-user` or `linli admin token`."""
    settings = settings_or_exit()
    upgrade(settings.database_url)
    if args.admin_command == "token":
        print(asyncio.run(_token(settings.database_url, args.username)))
        return 0
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if password is None and sys.stdin.isatty():
        password = getpass.getpass("password (at least 10 characters): ")
    if password is not None and len(password) < 10:
        print("linli admin: the password needs at least 10 characters", file=sys.stderr)
        return 2
    print(asyncio.run(_create(settings.database_url, args, password)))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `linli admin ...`."""
    admin = sub.add_parser("admin", help="users and tokens of the admin API")
    inner = admin.add_subparsers(dest="admin_command", required=True)
    create = inner.add_parser("create-user", help="create a user and print a token for it")
    create.add_argument("username")
    create.add_argument("--role", choices=ROLES, required=True)
    create.add_argument("--name", help="display name")
    create.add_argument(
        "--worker", help="for grid_worker (required): the name of a worker who has a grid"
    )
    create.add_argument("--password-stdin", action="store_true", help="read the password")
    token = inner.add_parser("token", help="print a new token for a user")
    token.add_argument("username")
    admin.set_defaults(func=cmd_admin)
