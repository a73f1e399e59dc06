"""Signing up for a community activity (义诊, classes, festival events) as one form.

Slots: which activity (a choice from the activities ahead, by number, name, part of the
name, place or day: handlers/activities/offer.py), for whom (the resident unless they say
otherwise; a children's activity asks which child: handlers/activities/people.py) and an
optional name. The confirmation names the activity, its time and place, and who goes; the
completion books a place per person (storage.booking_places.book_activity) and gives the
sign-up number (Y…), kept as the conversation's item for what is said next (follow.py).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from handlers.activities import offer
from handlers.activities.offer import for_children, places_left, when_text
from handlers.activities.people import booked_as, includes_self, name_in, people, shown, whom_in
from handlers.activities.questions import answer_about
from handlers.engine.choices import Option, choice_number
from handlers.engine.details import SELF
from handlers.engine.forms import Accept, Form, Refuse, Slot, Verdict, never
from handlers.engine.runner import MAX_OPTIONS
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from nlu.normalize import normalize
from nlu.timeparse import time_words
from storage.booking_places import book_activity
from storage.bookings import Activity, Booking

ACTIVITY, WHOM, NAME = "activity", "whom", "name"
ITEM_KIND = "activity"  # the conversation's item after a sign-up (follow.py takes item:activity)
KIDS = "for_children"  # kept with the values: the chosen activity is for children
REMIND_AHEAD = timedelta(hours=24)  # the booking reminder goes out the day before
NOT_ON_OFFER = "none:"  # an activity value naming what there is not (refused with the list)
# what the resident asks to sign up for, when it is no activity on offer (报个书法班)
_WANTED = re.compile(
    r"(?:报名参加|报名|参加|报)(?:个|一个|一下|下)?(?:那个)?([一-鿿]{2,8}?)"
    r"(?=的|吧|呗|啊|呀|了|活动|$|[\s，,。？?！!])"
)
_NOT_WANTED = re.compile(r"^(?:个|名|一|上|了|我|你|他|她|给|社区|活动|这个|那个|什么|啥)")


# a sign-up said in words (报名, 参加, 给我报…): starts the form when the NLU was unsure
_SIGN_UP = re.compile(
    r"报名|参加|[给帮](?:我|俺|咱)(?:家[^\s，,。]{0,3})?报(?!修|警|案|事|个修|一下修)"
)
_REPORT_WORDS = re.compile(r"坏|漏|堵|修|不亮|臭|味|吵|塌|裂|投诉")


# "最近有啥活动没", "社区都有哪些活动": asks what there is (the list is the answer)
_WHAT_IS_ON = re.compile(r"有(?:啥|什么|哪些|没有)[^，,。]{0,4}活动|活动(?:都)?有(?:啥|哪些|什么)")


def recognises(text: str) -> bool:
    """A message the NLU was unsure of that asks to sign up (给我报周四的插花) or what is on."""
    plain = normalize(text).text
    if _REPORT_WORDS.search(plain):
        return False
    return bool(_SIGN_UP.search(plain) or _WHAT_IS_ON.search(plain))


async def _activities(turn: Turn) -> list[Activity]:
    return await offer.on_offer(turn.ctx.session, turn.ctx.now)


async def _options(turn: Turn) -> list[Option]:
    return [offer.option_of(a) for a in await _activities(turn)]


async def chosen(turn: Turn) -> Activity | None:
    """The activity the request is about, if one is chosen."""
    key = turn.flow.text(ACTIVITY)
    if not key.isdigit():
        return None
    return await turn.ctx.session.get(Activity, int(key), populate_existing=True)


async def _activity_in(turn: Turn) -> SlotValue:
    """The activity the message names (with today's date for 下周一), or what there is not."""
    asked = turn.flow.asking == ACTIVITY
    if asked and choice_number(turn.text) is not None:
        return None  # a number: the engine picks it from the options shown
    activities = await _activities(turn)
    match = offer.pick(turn.text, activities, turn.ctx.now, numbered=False)
    if match.option is not None:
        return match.option.key
    if match.candidates or turn.flow.asking not in (None, ACTIVITY):
        return None
    said_day = [w.text for w in time_words(turn.text) if w.kind in ("weekday", "date")]
    if said_day:
        return f"{NOT_ON_OFFER}{said_day[0]}"
    wanted = _WANTED.search(normalize(turn.text).text)
    if wanted and not _NOT_WANTED.match(wanted.group(1)):
        return f"{NOT_ON_OFFER}{wanted.group(1)}"
    return None


async def _check_activity(turn: Turn, value: SlotValue) -> Verdict:
    """An activity still ahead with places left; said in passing only in its own words."""
    key, old = str(value), turn.flow.get(ACTIVITY)
    if key.startswith(NOT_ON_OFFER):
        what = key[len(NOT_ON_OFFER) :]
        if any(w.kind in ("weekday", "date") for w in time_words(what)):
            return Refuse(f"{what}没有安排活动。")
        return Refuse(f"最近没有“{what}”这个活动。")
    activity = await turn.ctx.session.get(Activity, int(key)) if key.isdigit() else None
    if activity is None or activity.starts_at <= turn.ctx.now:
        return Refuse("这个活动已经开始了，看看别的吧。")
    asked = turn.flow.asking == ACTIVITY
    if not asked and not offer.names_it(turn.text, activity):
        return Accept(old)  # a sound-alike in a message about something else: no change
    if places_left(activity) == 0 and key != old:
        return Refuse(f"【{activity.title}】已经报满了。")
    if for_children(activity):
        turn.flow.values[KIDS] = 1
        if turn.flow.get(WHOM) is not None and includes_self(turn.flow.get(WHOM)):
            turn.flow.values.pop(WHOM, None)  # a children's class: ask which child
    else:
        turn.flow.values.pop(KIDS, None)
    return Accept(key)


async def _check_whom(turn: Turn, value: SlotValue) -> Verdict:
    """A children's activity is for a child, not the resident."""
    if turn.flow.get(KIDS) and includes_self(value):
        activity = await chosen(turn)
        title = activity.title if activity else "这个活动"
        return Refuse(f"【{title}】是给孩子报的。")
    return Accept(value)


def _needs_whom(turn: Turn) -> bool:
    return bool(turn.flow.get(KIDS))


async def _ask_activity(turn: Turn) -> str:
    if turn.flow.misunderstood:
        return "报哪个活动？说名字或前面的序号都行，比如：义诊。"
    return "近期的社区活动，报哪个？说名字或序号都行："


async def _ask_whom(turn: Turn) -> str:
    if turn.flow.get(KIDS):
        return "给哪个孩子报名？比如：我孙女。"
    return "给谁报名？比如：我自己、我老伴。"


async def _summary(turn: Turn) -> str:
    activity = await chosen(turn)
    if activity is None:
        return "报哪个活动？"
    who = shown(turn.flow.get(WHOM), turn.flow.text(NAME) or None)
    return (
        f"报名【{activity.title}】{when_text(activity.starts_at, activity.ends_at)}，"
        f"{activity.place}。\n参加人：{who}。对吗？回复“对”就报上，要改直接告诉我。"
    )


async def _answer_question(turn: Turn) -> str | None:
    activity = await chosen(turn)
    if activity is None:
        match = offer.pick(turn.text, await _activities(turn), turn.ctx.now, numbered=False)
        if match.option is None:
            return None
        activity = await turn.ctx.session.get(Activity, int(match.option.key))
        if activity is None:
            return None
    return answer_about(activity, turn.text, strict=bool(turn.filled))


async def sign_up(turn: Turn) -> None:
    """Book a place for each person, give the sign-up number and remember it."""
    ctx = turn.ctx
    activity = await chosen(turn)
    if activity is None:
        raise ValueError("sign-up completed without an activity")
    name = turn.flow.text(NAME) or None
    made: list[Booking] = []
    already: list[str] = []
    full = False
    for person in people(turn.flow.get(WHOM)):
        who, relation = booked_as(person, name)
        outcome = await book_activity(
            ctx.session,
            activity_id=activity.id,
            resident_id=ctx.resident.id,
            person=who,
            relation=relation,
        )
        if outcome.status == "full":
            full = True
        elif outcome.status == "duplicate" or outcome.booking is None:
            already.append("您本人" if person == SELF else person)
        else:
            made.append(outcome.booking)
    if not made and full:
        await _full_again(turn, activity)
        return
    if not made:
        ctx.action = "activity_duplicate"
        ctx.reply(f"{'、'.join(already)}已经报过【{activity.title}】了，不用重复报名。")
        return
    for booking in made:
        if booking.starts_at - ctx.now <= REMIND_AHEAD:
            booking.reminded_at = ctx.now  # this message is the reminder
    numbers = "、".join(b.number or "" for b in made)
    turn.remember(ITEM_KIND, made[0].number or "")
    ctx.action = f"activity_booked:{numbers}"
    later = made[0].starts_at - ctx.now > REMIND_AHEAD
    note = "活动前一天会提醒您。" if later else "请准时参加。"
    if full:
        note = "名额不够了，只报上了一位。" + note
    ctx.reply(
        f"报名成功，报名号 {numbers}。\n"
        f"【{activity.title}】{when_text(activity.starts_at)}，{activity.place}。{note}\n"
        "去不了直接告诉我“取消报名”就行。"
    )


async def _full_again(turn: Turn, activity: Activity) -> None:
    """The last place went meanwhile: say so and offer the others (the request goes on)."""
    values = {k: v for k, v in turn.flow.values.items() if k not in (ACTIVITY, KIDS)}
    again = replace(turn.flow, values=values, asking=ACTIVITY, offered={})
    turn.dialogue.flow = again  # a new request state: the engine keeps it
    others = [a for a in await _activities(turn) if places_left(a) > 0][:MAX_OPTIONS]
    turn.ctx.action = "activity_full"
    if not others:
        turn.dialogue.flow = None
        turn.ctx.reply(f"抱歉，【{activity.title}】刚刚报满了，最近也没有别的活动能报了。")
        return
    again.offered[ACTIVITY] = [str(a.id) for a in others]
    lines = "  ".join(f"{i} {offer.option_of(a).name}" for i, a in enumerate(others, 1))
    turn.ctx.reply(f"抱歉，【{activity.title}】刚刚报满了。还能报的：\n{lines}")


ACTIVITY_FORM = Form(
    title="活动报名",
    name="activity",
    intents=("join_activity",),
    slots=(
        Slot(
            ACTIVITY,
            "活动",
            _ask_activity,
            extract=(_activity_in,),
            options=_options,
            validate=_check_activity,
        ),
        Slot(
            WHOM,
            "参加人",
            _ask_whom,
            extract=(whom_in,),
            validate=_check_whom,
            required=_needs_whom,
        ),
        Slot(NAME, "姓名", "叫什么名字？比如：王小丫。", extract=(name_in,), required=never),
    ),
    complete=sign_up,
    summary=_summary,
    withdrawn="好的，这次先不报了。想报名随时告诉我。",
    lenient_start=True,  # the confirmation names the activity: a wrong guess is corrected there
    answers=_answer_question,
    recognises=recognises,
)

FORMS = (ACTIVITY_FORM,)
