"""Staff accounts' lifecycle, for the API and the console: revoke tokens, deactivate, reactivate.

Each takes an open session (the caller commits), writes the audit entry, and raises the
errors of handlers/errors.py. Revoking deletes tokens, so they stop at once everywhere;
deactivating deletes a user's tokens too, and reactivating revives none.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.errors import Conflict, NotFound
from storage.accounts import (
    ApiToken,
    User,
    audit,
    revoke_token,
    revoke_tokens_of,
    set_active,
    user_by_id,
)


async def existing_user(session: AsyncSession, user_id: int | None) -> User:
    """The user with this id, or NotFound."""
    user = await user_by_id(session, user_id)
    if user is None:
        raise NotFound("no such user")
    return user


async def revoke_user_tokens(
    session: AsyncSession, actor: str, user_id: int | None
) -> tuple[User, int]:
    """Delete every token of a user (audited); the user and how many there were."""
    user = await existing_user(session, user_id)
    revoked = await revoke_tokens_of(session, user.id)
    audit(session, actor, "revoke_tokens", f"user:{user.username}", f"{revoked} tokens")
    return user, revoked


async def revoke_token_by_id(
    session: AsyncSession, actor: str, token_id: int | None
) -> tuple[ApiToken, str]:
    """Delete one token (audited); the token and whose it was."""
    token = await revoke_token(session, token_id) if token_id is not None else None
    if token is None:
        raise NotFound("no such token")
    user = await user_by_id(session, token.user_id)
    username = user.username if user else "?"
    audit(session, actor, "revoke_token", f"user:{username}", f"token {token.id}")
    return token, username


async def set_user_active(
    session: AsyncSession, actor: str, actor_user_id: int | None, user_id: int | None, active: bool
) -> User:
    """Deactivate (revoking every token) or reactivate a user, audited; never oneself."""
    user = await existing_user(session, user_id)
    if not active and actor_user_id == user.id:
        raise Conflict("you cannot deactivate your own account", "own_account")
    revoked = await set_active(session, user, active)
    action = "reactivate_user" if active else "deactivate_user"
    audit(session, actor, action, f"user:{user.username}", f"{revoked} tokens revoked")
    return user
