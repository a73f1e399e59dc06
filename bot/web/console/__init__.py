"""The web console for community staff and grid workers (/admin/)."""

from __future__ import annotations

from aiohttp import web

from bot.web.console import boards, handoff, nlu_models, nlu_review, views


def register(app: web.Application) -> None:
    """Add the console's pages."""
    views.register(app)
    handoff.register(app)
    boards.register(app)
    nlu_models.register(app)
    nlu_review.register(app)
