"""Group-chat manners: speak when spoken to or asked for help; keep personal details private.

In a group chat (a grid's group) the bot acts on a message only when it mentions the bot,
or when it is a confident, actionable request (a report intent at least as sure as
config.yml `dialogue.group_min_confidence`), or when it answers a question the bot asked
that member, or cancels it, or is a chat command. Everything else is ordinary chatter:
stored, parsed, never answered (its status is "ignored").

Answers in the group start by mentioning the sender. A reply that carries personal details
(a phone number, an ID number, an address or health question, a ticket's details) goes to
the sender's direct chat instead, and the group is only told to look there.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from sqlalchemy import update

from handlers.commands import parse_command
from handlers.context import Context
from handlers.dialogue import in_flow, is_cancel
from handlers.engine.answers import AnswerKind, read_answer
from handlers.engine.choices import choice_number
from handlers.registry import Registry, flow_handler
from storage.messages import Message
from storage.push import push

UNADDRESSED = "group:unaddressed"  # set by ingest on group messages not mentioning the bot
IGNORED = "ignored"
PERSONAL = re.compile(
    r"1[3-9]\d{9}|1\d{2}\*{4}\d{4}|\d{17}[\dXx]|电话|手机|身份证|住址|地址|门牌|"
    r"工单号|病|残疾|血压|用药|评价"
)
MOVED = "涉及个人信息的内容已私信发给您，请在和我的私聊里查看。"

Answer = Callable[[Context, Registry], Awaitable[None]]


async def addressed(ctx: Context) -> bool:
    """True unless this is a group message that did not mention the bot."""
    if not ctx.conversation.is_group:
        return True
    message = await ctx.session.get(Message, ctx.message_id)
    return message is None or message.action != UNADDRESSED


def actionable(ctx: Context) -> bool:
    """A report the bot should take up even unasked: a report intent, confidently."""
    parse = ctx.parse
    return (
        parse is not None
        and parse.intent in ctx.services.report_intents
        and parse.confidence >= ctx.services.group_min_confidence
    )


def explicit(ctx: Context, registry: Registry) -> bool:
    """A chat command, or cancelling the bot's own question."""
    if in_flow(ctx.state) and is_cancel(ctx.text):
        return True
    return parse_command(ctx.text, registry.command_verbs()) is not None


async def answers_question(ctx: Context, registry: Registry, answer: Answer) -> bool:
    """Let the flow waiting for this member take the message; False when it is no answer."""
    if registry.engine.in_request(ctx):
        reading = read_answer(ctx.text)  # unaddressed: only a plain answer to our question
        if reading.kind is AnswerKind.NONE and choice_number(ctx.text) is None:
            return False
        await answer(ctx, registry)
        return True
    handler = registry.get(flow_handler(ctx.state))
    return handler is not None and await handler(ctx) is not False


def mention(ctx: Context) -> str:
    """How the sender is mentioned at the start of a group reply."""
    return f"@{ctx.resident.name or ctx.conversation.user_id} "


async def keep_private(ctx: Context) -> None:
    """Mention the sender in group replies; move replies with personal details to a DM."""
    public: list[str] = []
    moved = False
    for text in ctx.replies:
        if PERSONAL.search(text):
            await push(
                ctx.session,
                platform=ctx.conversation.platform,
                user_id=ctx.conversation.user_id,
                text=text,
                action=ctx.action or "group_private",
            )
            moved = True
        else:
            public.append(mention(ctx) + text)
    if moved:
        public.append(mention(ctx) + MOVED)
    ctx.replies[:] = public


async def stay_quiet(ctx: Context) -> None:
    """Answer nothing; the message stays stored with its parse, marked ignored."""
    ctx.replies.clear()
    ctx.action = "group_quiet"
    await ctx.session.execute(
        update(Message).where(Message.id == ctx.message_id).values(status=IGNORED)
    )


_MENTION = re.compile(r"[@＠][^\s@＠]{1,32}")


def blank_mentions(text: str) -> str:
    """The text with each @mention blanked out (same length: NLU offsets still hold)."""
    return _MENTION.sub(lambda m: " " * len(m.group(0)), text)


async def respond_in_group(ctx: Context, registry: Registry, answer: Answer) -> None:
    """Run a group turn with group manners around the usual answer."""
    ctx.text = blank_mentions(ctx.text)
    handed_off = ctx.conversation.handed_off  # the usual answer: stay quiet for the person
    if handed_off or await addressed(ctx) or actionable(ctx) or explicit(ctx, registry):
        await answer(ctx, registry)
    elif not (in_flow(ctx.state) and await answers_question(ctx, registry, answer)):
        await stay_quiet(ctx)
        return
    await keep_private(ctx)
