"""Staff accounts: users with roles, API tokens, and the audit log of who saw or changed what.

Roles: admin, staff, grid_worker (linked to a Worker, so to a grid), provider (linked to a
home-care provider organisation) and volunteer. Passwords are argon2 hashes; tokens are
stored as SHA-256 digests only, so a database copy does not leak working tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, ForeignKey, Index, String, Text, select, true
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
    expires_at: Mapped[datetime | None] = mapped_column()
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


async def create_user(
    session: AsyncSession,
    username: str,
    role: str,
    *,
    display_name: str | None = None,
    password: str | None = None,
    worker_id: int | None = None,
    provider_id: int | None = None,
) -> User:
    """Create a user; the role must be one of ROLES, a grid_worker a worker who has a grid."""
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
        password_hash=hash_password(password) if password else None,
        worker_id=worker_id,
        provider_id=provider_id,
    )
    session.add(user)
    await session.flush()
    return user


async def issue_token(
    session: AsyncSession, user: User, label: str, expires_at: datetime | None = None
) -> str:
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
        select(User, ApiToken.expires_at)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.digest == token_digest(token), User.active.is_(True))
    )
    row = (await session.execute(stmt)).first()
    if row is None or (row[1] is not None and row[1] < now):
        return None
    return row[0]


async def user_by_name(session: AsyncSession, username: str) -> User | None:
    """Look a user up by username."""
    return (await session.scalars(select(User).where(User.username == username))).first()


def audit(session: AsyncSession, actor: str, action: str, target: str, detail: str = "") -> None:
    """Record one audited action in the current transaction."""
    session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail or None))
