"""Greetings, thanks, yes/no out of context and requests the account does not handle."""

from __future__ import annotations

from handlers.context import Context
from handlers.registry import intent


@intent("greet")
async def greet(ctx: Context) -> None:
    """Say hello and show what the account can do."""
    ctx.action = "greet"
    ctx.reply(
        f"您好！这里是{ctx.services.community}服务号。"
        "您可以直接告诉我遇到的问题，比如“东关中巷的路灯坏了”；发送“查询”可以了解办理进度。"
    )


@intent("thank")
async def thank(ctx: Context) -> None:
    """Close politely."""
    ctx.action = "thank"
    ctx.reply("不客气！有事随时找我们。")


@intent("affirm", "deny")
async def yes_no_without_question(ctx: Context) -> None:
    """A yes or no when the bot asked nothing: say what it can do instead of guessing."""
    ctx.action = "yes_no_out_of_context"
    ctx.reply("好的。还有什么需要帮忙的，直接告诉我就行，比如反映问题或者查询进度。")


@intent("out_of_scope")
async def out_of_scope(ctx: Context) -> None:
    """Decline kindly and point to what the account does."""
    ctx.action = "out_of_scope"
    ctx.reply(
        "这个问题社区服务号帮不上忙，抱歉。"
        "我可以帮您反映小区里的问题、查询办理进度；需要找人请回复“转人工”。"
    )
