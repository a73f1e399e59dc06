"""The numbered menu shown when the bot is unsure, and the answer to services not yet online."""

from __future__ import annotations

from handlers import handoff, status
from handlers.context import Context
from handlers.dialogue import choice_number
from handlers.registry import intent

MENU = (
    "抱歉，我没太明白您的意思。您可以回复数字：\n"
    "1 反映问题（路灯、垃圾、道路井盖、漏水堵水、燃气、噪音）\n"
    "2 查询办理进度\n"
    "3 转人工"
)
ASK_PROBLEM = "请直接说说遇到的问题和地点，比如：东关中巷的路灯坏了。"


async def show_menu(ctx: Context) -> None:
    """Offer numbered choices instead of guessing; the third time in a row, hand to staff."""
    if await handoff.misunderstood_again(ctx):
        return
    ctx.state.clear()
    ctx.state["flow"] = "menu"
    ctx.action = "menu"
    ctx.reply(MENU)


@intent("flow:menu")
async def menu_choice(ctx: Context) -> bool:
    """Act on the number the resident picked from the menu; anything else goes to NLU."""
    choice = choice_number(ctx.text)
    if choice is None:
        return False
    ctx.state.clear()
    if choice == 1:
        ctx.action = "menu_report"
        ctx.reply(ASK_PROBLEM)
    elif choice == 2:
        await status.check_status(ctx)
    elif choice == 3:
        await handoff.request_handoff(ctx)
    else:
        await show_menu(ctx)
    return True


async def not_yet_served(ctx: Context) -> None:
    """A request this account cannot handle by itself yet: hand it to staff, say so plainly."""
    await handoff.hand_over(
        ctx, f"尚未上线的服务（{ctx.intent}）", "您的需求已记录，社区工作人员会尽快联系您办理。"
    )
    ctx.action = f"handoff:{ctx.intent}"
