"""Signed links to a worker's mobile task page: /w/<ticket number>?w=<worker id>&s=<signature>.

The signature (HMAC-SHA256 with LINLI_SECRET_KEY over worker and ticket) is the capability:
only the worker the card was pushed to can open and act on that ticket's page.
"""

from __future__ import annotations

import hashlib
import hmac

from handlers.context import Services
from storage.tickets import Ticket


def sign(key: bytes, worker_id: int, ticket_id: int) -> str:
    """The signature of one worker's link to one ticket."""
    message = f"task:{worker_id}:{ticket_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def verify(key: bytes, worker_id: int, ticket_id: int, signature: str) -> bool:
    """True when the signature matches (constant-time comparison)."""
    return bool(key) and hmac.compare_digest(sign(key, worker_id, ticket_id), signature)


def task_url(services: Services, worker_id: int, ticket: Ticket) -> str | None:
    """The worker's link to the ticket's page, or None when no link key is configured."""
    if not services.link_key or not services.public_url:
        return None
    signature = sign(services.link_key, worker_id, ticket.id)
    return f"{services.public_url}/w/{ticket.number}?w={worker_id}&s={signature}"
