"""Public pages that need no login: the micro-wish list (no personal details in it)."""

from __future__ import annotations

from aiohttp import web

from bot.responses import error
from bot.runtime import RUNTIME
from storage.privacy import mask_text
from storage.wishes import PUBLIC_STATUSES, Wish, public_wishes, wish_by_number

STATUS_LABELS = {"approved": "等待认领", "claimed": "已认领", "fulfilled": "已实现"}


def public_item(wish: Wish) -> dict[str, object]:
    """A wish as the public sees it: number, words, for whom, by when, progress; nobody's name.

    The words were cleaned when the wish was made; they are masked again here, so a number in
    an older row (or one the cleaning missed) is never shown as typed.
    """
    return {
        "number": wish.number,
        "wish": mask_text(wish.wish),
        "for_whom": mask_text(wish.for_whom),
        "due": mask_text(wish.due_text) if wish.due_text else None,
        "status": wish.status,
        "status_label": STATUS_LABELS.get(wish.status, wish.status),
        "created_at": wish.created_at.isoformat(),
    }


async def list_wishes(request: web.Request) -> web.Response:
    """GET /wishes: the checked wishes, newest first."""
    async with request.app[RUNTIME].sessions() as session:
        wishes = await public_wishes(session, limit=100)
    return web.json_response({"items": [public_item(w) for w in wishes], "next": None})


async def one_wish(request: web.Request) -> web.Response:
    """GET /wishes/{number}: one listed wish; 404 for numbers not on the public list."""
    number = request.match_info["number"].upper()
    async with request.app[RUNTIME].sessions() as session:
        wish = await wish_by_number(session, number) if len(number) <= 16 else None
    if wish is None or wish.status not in PUBLIC_STATUSES:
        return error(404, "not_found", f"no listed wish {number}")
    return web.json_response(public_item(wish))


def register(app: web.Application) -> None:
    """Add the public routes (web role)."""
    app.router.add_get("/wishes", list_wishes)
    app.router.add_get("/wishes/{number}", one_wish)
