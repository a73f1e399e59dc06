"""The rehab booking form: station, time, session, for whom; confirmed, then a booking number.

Every message is read for all of it ("想给我妈约个周四的康复 东关社区那个站" gives the
person, the day and the station). The session is chosen by itself when the station and
the time said leave one open; else up to four are offered, and "下午吧" / "十点那场" /
"第二个" choose. For whom is the resident unless they say otherwise (我爸, 老伴, 给我婆婆
约): the summary shows it, so it is not asked; a name is kept when given (他叫李浩然), never
required (a booking holds the relation, and staff see the resident who made it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from handlers.engine.choices import Option
from handlers.engine.details import SELF as SELF_SAID
from handlers.engine.details import person_name, relation
from handlers.engine.forms import Accept, Form, Refuse, Slot, Verdict, never
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from handlers.rehab.sessions import (
    MAX_SHOWN,
    Choice,
    as_options,
    choice_prompt,
    choose,
    find_offer,
    fits_chosen,
    key_of,
    service_names,
    services_named,
)
from handlers.rehab.stations import check_station, options_for, station_in, station_of
from handlers.rehab.times import merged, wanted_in, wanted_of
from handlers.rehab.wording import (
    REMIND_AHEAD,
    called,
    kin_of,
    person_label,
    when_text,
)
from nlu.normalize import normalize
from storage.booking_places import book_slot
from storage.bookings import SELF

FORM = "rehab"
# policy questions asked while booking that the NLU may be unsure of, by FAQ key
QUESTIONS = (
    (
        "service_station",
        ("开门", "关门", "几点开", "开不开", "周末", "营业", "开放", "在哪", "地址"),
    ),
    ("rehab_children", ("儿童", "小孩")),
)
_REHAB_WORDS = re.compile("康复|理疗|吉康|康服|复健")
# booking, or asking whether there is one to book ("周六东关有中医理疗吗": the sessions are shown)
_BOOKING_WORDS = re.compile(
    "约|预约|报名|安排|想做|要做|做个|做一下|有(?:没有)?[^，,。？?]{0,10}(?:吗|么|没)"
)
# words for an older person that say nothing more than the relation said before (我爸 … 老爷子)
_ELDER_WORDS = frozenset({"老爷子", "老太太", "老人", "老人家", "老头", "老头儿", "老太"})
_NAME_CUE = ("叫", "名字", "姓名", "姓")


# ------------------------------------------------------------------ reading the message


async def _service(turn: Turn) -> SlotValue:
    named = services_named(turn.text, await service_names(turn.ctx.session))
    return named or None


def _when(turn: Turn) -> SlotValue:
    wanted = wanted_in(turn.text, turn.ctx.now)
    return wanted.value() if wanted is not None else None


def _whom(turn: Turn) -> SlotValue:
    return relation(turn.text)


def _name(turn: Turn) -> SlotValue:
    if not any(cue in turn.text for cue in _NAME_CUE):
        return None
    return person_name(turn.text)


def recognises(text: str) -> bool:
    """A message naming a rehab booking in its own words (约礼拜六的中医理疗, 康复)."""
    plain = normalize(text).text
    if _REHAB_WORDS.search(plain) is None:
        return False
    return _BOOKING_WORDS.search(plain) is not None or len(plain) <= 6


def same_person(old: SlotValue, new: SlotValue) -> SlotValue:
    """Whom it is for, said again in other words (我儿子 / 儿子, 我爸 / 老爷子), stays as said."""
    before, after = str(old or ""), str(new or "")
    if not before or before == SELF_SAID or after == SELF_SAID:
        return new
    if person_label(before) == person_label(after) or kin_of(after)[0] in _ELDER_WORDS:
        return old
    return new


async def choice_of(turn: Turn) -> Choice | None:
    """The sessions that fit what was said, once the station is known."""
    station = turn.flow.get("station")
    if station is None or not str(station).isdigit():
        return None
    services = turn.flow.get("service")
    return await choose(
        turn.ctx.session,
        int(str(station)),
        turn.ctx.now,
        wanted_of(turn.flow.get("when")),
        services if isinstance(services, list) else (),
    )


async def _single_session(turn: Turn) -> SlotValue:
    choice = await choice_of(turn)
    single = choice.single if choice is not None else None
    return key_of(single) if single is not None else None


async def _session_options(turn: Turn) -> Sequence[Option]:
    choice = await choice_of(turn)
    return as_options(choice.offers[:MAX_SHOWN], exact=choice.exact) if choice is not None else []


# ------------------------------------------------------------------ checking what was read


async def _keep_if_fits(turn: Turn, value: SlotValue) -> Verdict:
    """A time that fits the session chosen changes nothing (对 就是十点那场)."""
    station = await station_of(turn.ctx.session, turn.flow.get("station"))
    chosen = turn.flow.get("session")
    now = turn.ctx.now
    if await fits_chosen(
        turn.ctx.session, station.id if station else None, chosen, wanted_of(value), now
    ):
        return Accept(turn.flow.get("when"))
    return Accept(value)


async def _check_session(turn: Turn, value: SlotValue) -> Verdict:
    station = await station_of(turn.ctx.session, turn.flow.get("station"))
    if station is None:
        return Refuse("")
    offer = await find_offer(turn.ctx.session, station.id, value, turn.ctx.now)
    if offer is None:
        return Refuse("这一场已经过了时间，换一场吧。")
    if offer.left <= 0:
        return Refuse("这一场已经约满了，换一场吧。")
    return Accept(value)


# ------------------------------------------------------------------ what the bot says


async def _ask_station(turn: Turn) -> str:
    return "好的，帮您约康复。去哪个站？比如：东关那个。"


async def _ask_session(turn: Turn) -> str:
    station = await station_of(turn.ctx.session, turn.flow.get("station"))
    choice = await choice_of(turn) or Choice((), False)
    return choice_prompt(station.name if station is not None else "", choice, "约哪个？")


def who_of(turn: Turn) -> str:
    """Whom the booking is for, as the bot says it: 您本人 / 您母亲 / 您父亲（王建华）."""
    said = turn.flow.text("whom")
    name = turn.flow.text("name")
    if not said or said == SELF_SAID:
        return "您本人"
    return f"{called(said)}（{name}）" if name else called(said)


async def _summary(turn: Turn) -> str:
    station = await station_of(turn.ctx.session, turn.flow.get("station"))
    offer = (
        await find_offer(turn.ctx.session, station.id, turn.flow.get("session"), turn.ctx.now)
        if station is not None
        else None
    )
    if station is None or offer is None:
        return "好的。对吗？"
    weekly = offer.weekly
    return (
        f"好的：{when_text(offer.starts_at)} {weekly.service}（{weekly.therapist}老师），"
        f"{station.name}，为{who_of(turn)}预约。对吗？"
    )


# ------------------------------------------------------------------ the booking


async def book(turn: Turn) -> None:
    """Book the session for the person; a place taken meanwhile asks for another session."""
    ctx, flow = turn.ctx, turn.flow
    station = await station_of(ctx.session, flow.get("station"))
    offer = (
        await find_offer(ctx.session, station.id, flow.get("session"), ctx.now)
        if station is not None
        else None
    )
    if station is None or offer is None:
        flow.values.pop("session", None)
        ctx.reply("这一场已经过了时间。")
        return
    said, name = flow.text("whom"), flow.text("name")
    for_self = not said or said == SELF_SAID
    outcome = await book_slot(
        ctx.session,
        weekly_session_id=offer.weekly.id,
        day=offer.day,
        resident_id=ctx.resident.id,
        person=SELF if for_self else (name or person_label(said)),
        relation=None if for_self else said,
    )
    if outcome.status == "full":
        flow.values.pop("session", None)
        flow.offered.pop("session", None)
        ctx.reply("抱歉，这一场刚刚被约满了。")
        return
    if outcome.status == "duplicate" or outcome.booking is None:
        ctx.action = "rehab_duplicate"
        ctx.reply("这个时间已经为这位约过了，不用重复预约。发送“查询”可以看您的预约。")
        return
    booking = outcome.booking
    later = booking.starts_at - ctx.now > REMIND_AHEAD
    if not later:
        booking.reminded_at = ctx.now  # this message is the reminder
    turn.remember("booking", str(booking.number))
    ctx.action = f"rehab_booked:{booking.number}"
    remind = "前一天会提醒您。" if later else "请提前10分钟到。"
    ctx.reply(
        f"已约好，预约号 {booking.number}。{remind}\n"
        f"{when_text(offer.starts_at)} {offer.weekly.service}，{station.name}，为{who_of(turn)}。\n"
        "要改时间或取消，直接告诉我。"
    )


def _slots() -> tuple[Slot, ...]:
    return (
        Slot(
            "station",
            "站点",
            _ask_station,
            extract=(station_in,),
            options=options_for,
            validate=check_station,
            resets=("session",),
        ),
        Slot(
            "service",
            "项目",
            "约哪个项目？比如：康复评估。",
            extract=(_service,),
            required=never,
            resets=("session",),
        ),
        Slot(
            "when",
            "时间",
            "哪天去？比如：周四上午。",
            extract=(_when,),
            validate=_keep_if_fits,
            required=never,
            merge=merged,
            refine=True,
            resets=("session",),
        ),
        Slot(
            "session",
            "场次",
            _ask_session,
            extract=(_single_session,),
            options=_session_options,
            validate=_check_session,
        ),
        Slot(
            "whom",
            "为谁",
            "给谁约？比如：我自己、我妈。",
            extract=(_whom,),
            required=never,
            merge=same_person,
        ),
        Slot("name", "姓名", "叫什么名字？比如：王建华。", extract=(_name,), required=never),
    )


REHAB = Form(
    title="康复预约",
    choice_with_yes_completes=True,
    name=FORM,
    intents=("book_rehab",),
    slots=_slots(),
    complete=book,
    summary=_summary,
    withdrawn="好的，先不约了。想约的时候随时告诉我。",
    lenient_start=True,  # the summary shows station, time and person: a wrong guess is seen
    questions=QUESTIONS,
    recognises=recognises,
)
