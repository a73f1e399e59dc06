"""The admin API under /api/: one module per area, registered in one place."""

from __future__ import annotations

from aiohttp import web

from bot import retraining
from bot.web.api import (
    accounts,
    bookings,
    conversations,
    core,
    messages,
    nlu_models,
    nlu_review,
    services,
    stats,
    tickets,
)


def register(app: web.Application) -> None:
    """Add every API endpoint and /api/openapi.json."""
    core.register(
        app,
        [
            accounts,
            bookings,
            conversations,
            messages,
            nlu_models,
            nlu_review,
            services,
            stats,
            tickets,
        ],
    )
    retraining.register(app)
