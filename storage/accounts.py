"""Staff accounts: users with roles, API tokens, and the audit log of who saw or changed what.

Roles: admin, staff, grid_worker (linked to a Worker, so to a grid), provider (linked to a
home-care provider organisation) and volunteer. Passwords are argon2 hashes; tokens are
stored as SHA-256 digests only, so a database copy does not leak working tokens. Every
token has an expiry; revoking deletes it, and a deactivated user's tokens are deleted too.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, ForeignKey, Index, String, Text, delete, func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow
from storage.community import Worker

ROLES = ("admin", "staff", "grid_worker", "provider", "volunteer")
_hasher = PasswordHasher()


class User(Base):
    """A person who uses the admin API or console, with one role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    provider_id: Mapped[int | None] = mapped_column()  # home-care provider organisation
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """A bearer token of a user (its SHA-256 digest); sessions from /api/login are tokens too."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who viewed or exported personal details, or changed something, and when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    """True when the password matches the stored argon2 hash."""
    if not stored:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()


class AccountRefused(ValueError):
    """An account that cannot be created as asked (unknown role, a grid_worker without grid)."""


class UsernameTaken(AccountRefused):
    """Another account has this username."""


async def create_user(
    session: AsyncSession,
    username: str,
    role: str,
    *,
    display_name: str | None = None,
    password: str | None = None,
    password_hash: str | None = None,
    worker_id: int | None = None,
    provider_id: int | None = None,
) -> User:
    """Create a user; the role must be one of ROLES, a grid_worker a worker who has a grid.

    Give the password, or its hash made already (the API hashes off the event loop).
    """
    if role not in ROLES:
        raise AccountRefused(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if role == "grid_worker":
        worker = await session.get(Worker, worker_id) if worker_id is not None else None
        if worker is None or worker.grid_id is None:
            # scoped by the worker's grid: without one it would see every ungridded ticket
            raise AccountRefused("a grid_worker account needs a worker who has a grid")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=password_hash or (hash_password(password) if password else None),
        worker_id=worker_id,
        provider_id=provider_id,
    )
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError:
        raise UsernameTaken(f"the username {username!r} is taken") from None
    return user


async def issue_token(session: AsyncSession, user: User, label: str, expires_at: datetime) -> str:
    """Create a new bearer token for a user and return it (shown once, stored hashed)."""
    token = secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, digest=token_digest(token), label=label, expires_at=expires_at)
    )
    await session.flush()
    return token


async def user_for_token(session: AsyncSession, token: str, now: datetime) -> User | None:
    """The active user a bearer token belongs to, if it is valid and not expired."""
    stmt = (
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.digest == token_digest(token),
            ApiToken.expires_at > now,
            User.active.is_(True),
        )
    )
    return (await session.scalars(stmt)).first()


async def revoke_token_value(session: AsyncSession, token: str) -> ApiToken | None:
    """Delete the token with this value (a logout); the deleted row, if there was one."""
    stmt = select(ApiToken).where(ApiToken.digest == token_digest(token))
    row = (await session.scalars(stmt)).first()
    if row is not None:
        await session.delete(row)
        await session.flush()
    return row


async def revoke_token(session: AsyncSession, token_id: int) -> ApiToken | None:
    """Delete one token by its id; the deleted row, if there was one."""
    row = await session.get(ApiToken, token_id)
    if row is not None:
        await session.delete(row)
        await session.flush()
    return row


async def revoke_tokens_of(session: AsyncSession, user_id: int) -> int:
    """Delete every token of a user; how many there were."""
    result = await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def live_tokens_of(
    session: AsyncSession, user_id: int, now: datetime, before_id: int | None, limit: int
) -> list[ApiToken]:
    """A user's unexpired tokens, newest first, below a cursor id."""
    stmt = select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.expires_at > now)
    if before_id is not None:
        stmt = stmt.where(ApiToken.id < before_id)
    return list((await session.scalars(stmt.order_by(ApiToken.id.desc()).limit(limit))).all())


async def live_token_counts(
    session: AsyncSession, user_ids: list[int], now: datetime
) -> dict[int, int]:
    """How many unexpired tokens each of these users has."""
    stmt = (
        select(ApiToken.user_id, func.count())
        .where(ApiToken.user_id.in_(user_ids), ApiToken.expires_at > now)
        .group_by(ApiToken.user_id)
    )
    return {user_id: count for user_id, count in (await session.execute(stmt)).all()}


async def purge_expired_tokens(session: AsyncSession, now: datetime) -> int:
    """Delete tokens past their expiry (they no longer work anyway); how many."""
    result = await session.execute(delete(ApiToken).where(ApiToken.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def set_active(session: AsyncSession, user: User, active: bool) -> int:
    """Deactivate (its tokens are deleted: reactivating revives none) or reactivate a user."""
    user.active = active
    await session.flush()
    return 0 if active else await revoke_tokens_of(session, user.id)


async def list_users(session: AsyncSession, before_id: int | None, limit: int) -> list[User]:
    """Users, newest first, below a cursor id."""
    stmt = select(User)
    if before_id is not None:
        stmt = stmt.where(User.id < before_id)
    return list((await session.scalars(stmt.order_by(User.id.desc()).limit(limit))).all())


async def user_by_id(session: AsyncSession, user_id: int | None) -> User | None:
    """A user by id (None: no user)."""
    return await session.get(User, user_id) if user_id is not None else None


async def audit_entries(
    session: AsyncSession,
    before_id: int | None,
    limit: int,
    *,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditEntry]:
    """The audit log, newest first, below a cursor id, optionally of one actor or action."""
    stmt = select(AuditEntry)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list((await session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit))).all())


async def user_by_name(session: AsyncSession, username: str) -> User | None:
    """Look a user up by username."""
    return (await session.scalars(select(User).where(User.username == username))).first()


def audit(session: AsyncSession, actor: str, action: str, target: str, detail: str = "") -> None:
    """Record one audited action in the current transaction."""
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail or None))
