"""Import every aggregate so the metadata is complete (for Alembic and tests)."""

from storage import community, messages, residents, tickets
from storage.base import Base

__all__ = ["Base", "community", "messages", "residents", "tickets"]
