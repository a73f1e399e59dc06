"""Route one turn: 转人工 and cancel words, commands, the request in progress, the item just
made, then the intent."""

from __future__ import annotations

import logging

from handlers import group, handoff, menu, rating, silence, status
from handlers.commands import parse_command
from handlers.context import Context
from handlers.dialogue import in_flow, is_cancel, is_status_command, wants_a_person
from handlers.engine.state import STATE_KEY, Dialogue
from handlers.followups import take_follow_up
from handlers.registry import Registry, flow_handler

log = logging.getLogger(__name__)
GREETINGS = frozenset({"greet"})


async def respond(ctx: Context, registry: Registry) -> None:
    """Produce the bot's answer to one message (in a group chat, with group manners)."""
    engine = registry.engine
    was_in_request = engine.in_request(ctx)
    if was_in_request:
        await silence.take_back(ctx)  # the silence job may have filed it meanwhile
    if ctx.conversation.is_group:
        await group.respond_in_group(ctx, registry, answer_turn)
    else:
        await answer_turn(ctx, registry)
    if was_in_request or engine.in_request(ctx):
        await silence.track(ctx, engine, was_in_request)


async def answer_turn(ctx: Context, registry: Registry) -> None:
    """Produce the bot's answer to one resident message."""
    if ctx.conversation.handed_off:  # a person has taken over: store, do not answer
        await handoff.stay_quiet(ctx)
        return
    if not ctx.text.strip():
        ctx.action = "empty"
        ctx.reply("没有收到文字内容。请直接打字告诉我您遇到的问题，比如：东关中巷的路灯坏了。")
        return
    engine = registry.engine
    if is_cancel(ctx.text) and not engine.in_request(ctx):
        had_flow = bool(ctx.state.get("flow"))
        ctx.state.clear()
        ctx.action = "cancel"
        ctx.reply("好的，已取消。" if had_flow else "好的。还有需要随时告诉我。")
        return
    if wants_a_person(ctx.text) and not ctx.worker:
        registry.engine.drop_request(ctx)
        await handoff.request_handoff(ctx)
        return
    if is_status_command(ctx.text):
        ctx.state.clear()
        await status.check_status(ctx)
        return
    if await _run_command(ctx, registry):
        return
    if not in_flow(ctx.state) and await rating.take_rating(ctx):
        return
    if engine.in_request(ctx) or engine.resumes(ctx):
        between = lambda c: route_intent(c, registry, between=True)  # noqa: E731
        if await engine.take(ctx, between, about_item=take_follow_up):
            return
        await route_intent(ctx, registry)
        return
    flow = flow_handler(ctx.state)
    if flow is None and (await _item_follow_up(ctx, registry) or await take_follow_up(ctx)):
        return
    handler = registry.get(flow)
    if handler is not None:
        handled = await handler(ctx)
        if handled is not False:
            return
        ctx.state.clear()
    await route_intent(ctx, registry)


async def _item_follow_up(ctx: Context, registry: Registry) -> bool:
    """Words about the item just made, taken by its service (`item:<kind>`, e.g. item:order)."""
    item = Dialogue.load(ctx.state).item
    handler = registry.get(f"item:{item.kind}") if item is not None else None
    return handler is not None and await handler(ctx) is not False


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


async def route_intent(ctx: Context, registry: Registry, *, between: bool = False) -> None:
    """Answer by intent; unsure or unknown intents get the numbered menu.

    between: a question asked in the middle of a request (answered, the request resumes).
    """
    parse = ctx.parse
    known = parse is not None and parse.intent != "nlu_fallback"
    form = registry.engine.form_for(parse.intent) if parse is not None and known else None
    needed = ctx.services.min_confidence
    if form is not None and form.lenient_start:
        needed = min(needed, ctx.services.report_min_confidence)  # a weaker reading will do
    unsure = parse is None or not known or parse.confidence < needed
    if unsure or (parse is not None and parse.intent in GREETINGS):
        # a message the NLU is unsure of, or a greeting with more in it ("喂 你好 我想约那个
        # 康服训练…"), that names a service in its own words starts it
        form = registry.engine.form_recognising(ctx.text) if parse is not None else None
    if form is not None and not between:
        for key in [k for k in ctx.state if k != STATE_KEY]:
            ctx.state.pop(key)  # an older step machine's question is over
        await registry.engine.start(ctx, form)
        return
    if parse is None or unsure:
        await menu.show_menu(ctx)
        return
    handler = registry.get(parse.intent) or registry.get(parse.intent.split("/", 1)[0])
    if handler is None:
        await menu.not_yet_served(ctx)
        return
    await handler(ctx)
