"""A wish after it is made (rule 6): its progress, a detail added, the resident changing mind.

The wish the conversation made last is its current item; what the resident says next about
it ("啥时候有人认领啊", "对了 颜色无所谓", "不要了") is answered in its context instead of
starting something new or getting the fallback menu.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.context import Context
from handlers.engine.answers import is_thanks_only, is_withdrawal
from handlers.engine.details import asks_when, is_question
from handlers.engine.state import Dialogue
from handlers.registry import intent
from handlers.wishes.commands import STATUS_TEXT
from handlers.wishes.words import wish_text
from storage.community import workers_with_role
from storage.privacy import mask_text
from storage.push import push_to_worker
from storage.wishes import Wish, add_detail, wish_by_number, wishes_of

SURE = 0.7  # a message this sure of another intent is a new request, not about the wish
ABOUT_IT = frozenset({"affirm", "deny", "out_of_scope", "greet", "nlu_fallback", "check_status"})


async def status_lines(session: AsyncSession, resident_id: int) -> list[str]:
    """The resident's wishes still moving, one line each, for check_status."""
    lines = []
    for wish in await wishes_of(session, resident_id):
        lines.append(f"心愿 {wish.number}【{wish.wish}】：{_step(wish)}")
    return lines


def _step(wish: Wish) -> str:
    step = STATUS_TEXT.get(wish.status, wish.status)
    if wish.status == "fulfilled":
        step += f"，回复“答谢 {wish.number}”可以给志愿者留句话"
    return step


async def current_wish(ctx: Context) -> Wish | None:
    """The wish this conversation made last, if it is the current item and the resident's."""
    item = Dialogue.load(ctx.state).item
    if item is None or item.kind != "wish":
        return None
    wish = await wish_by_number(ctx.session, item.number)
    return wish if wish is not None and wish.resident_id == ctx.resident.id else None


def _about_it(ctx: Context) -> bool:
    parse = ctx.parse
    if parse is None:
        return ctx.command is None
    return parse.confidence < SURE or parse.intent in ABOUT_IT


async def _tell_staff(ctx: Context, text: str, action: str) -> None:
    for staff in await workers_with_role(ctx.session, "staff"):
        await push_to_worker(ctx.session, staff, text, action)


@intent("item:wish")
async def take_follow_up(ctx: Context) -> bool:
    """Answer a message about the wish just made; False when it is something else."""
    wish = await current_wish(ctx)
    text = ctx.text.strip()
    if wish is None or ctx.worker is not None or is_thanks_only(text) or not _about_it(ctx):
        return False
    number = str(wish.number)
    if ctx.intent == "check_status" or asks_when(text):
        ctx.action = f"wish_status:{number}"
        ctx.reply(f"心愿 {number} {_step(wish)}。\n有志愿者认领会第一时间告诉您。")
        return True
    if is_withdrawal(text):
        await _tell_staff(
            ctx, f"居民不想许心愿 {number} 了：“{mask_text(text)[:100]}”。请撤下。", "wish_withdraw"
        )
        ctx.action = f"wish_withdraw_asked:{number}"
        ctx.reply(f"好的，已请工作人员撤下心愿 {number}。")
        return True
    words = wish_text(text, needs_cue=False)
    if words is None or is_question(text):
        return False
    added = await add_detail(ctx.session, wish, ctx.resident.id, words, ctx.now)
    await _tell_staff(ctx, f"心愿 {number} 居民补充：{words}", f"wish_note:{number}")
    ctx.action = f"wish_note:{number}"
    ctx.reply(f"收到，已补充到心愿 {number}。" if added else f"收到，已转告工作人员（{number}）。")
    return True
