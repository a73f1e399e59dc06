"""Route one turn: cancel words, then the flow waiting for an answer, then the intent."""

from __future__ import annotations

import logging

from handlers import group, handoff, menu, rating, status
from handlers.commands import parse_command
from handlers.context import Context
from handlers.dialogue import in_flow, is_cancel, is_status_command
from handlers.registry import Registry, flow_handler

log = logging.getLogger(__name__)


async def respond(ctx: Context, registry: Registry) -> None:
    """Produce the bot's answer to one message (in a group chat, with group manners)."""
    if ctx.conversation.is_group:
        await group.respond_in_group(ctx, registry, answer_turn)
    else:
        await answer_turn(ctx, registry)


async def answer_turn(ctx: Context, registry: Registry) -> None:
    """Produce the bot's answer to one resident message."""
    if ctx.conversation.handed_off:  # a person has taken over: store, do not answer
        await handoff.stay_quiet(ctx)
        return
    if not ctx.text.strip():
        ctx.action = "empty"
        ctx.reply("没有收到文字内容。请直接打字告诉我您遇到的问题，比如：东关中巷的路灯坏了。")
        return
    if is_cancel(ctx.text):
        had_flow = bool(ctx.state.get("flow"))
        ctx.state.clear()
        ctx.action = "cancel"
        ctx.reply("好的，已取消。" if had_flow else "好的。还有需要随时告诉我。")
        return
    if is_status_command(ctx.text):
        ctx.state.clear()
        await status.check_status(ctx)
        return
    if await _run_command(ctx, registry):
        return
    if not in_flow(ctx.state) and await rating.take_rating(ctx):
        return
    flow = flow_handler(ctx.state)
    handler = registry.get(flow)
    if handler is not None:
        handled = await handler(ctx)
        if handled is not False:
            return
        ctx.state.clear()
    await route_intent(ctx, registry)


async def _run_command(ctx: Context, registry: Registry) -> bool:
    """Run a chat command (接单 1001 …) if the message is one its sender may use."""
    ctx.command = parse_command(ctx.text, registry.command_verbs())
    if ctx.command is None:
        return False
    handler = registry.get(f"cmd:{ctx.command.verb}")
    if handler is None or await handler(ctx) is False:
        ctx.command = None
        return False
    return True


async def route_intent(ctx: Context, registry: Registry) -> None:
    """Answer by intent; unsure or unknown intents get the numbered menu."""
    parse = ctx.parse
    if parse is None or parse.intent == "nlu_fallback":
        await menu.show_menu(ctx)
        return
    if parse.confidence < ctx.services.min_confidence:
        await menu.show_menu(ctx)
        return
    handler = registry.get(parse.intent) or registry.get(parse.intent.split("/", 1)[0])
    if handler is None:
        await menu.not_yet_served(ctx)
        return
    await handler(ctx)
