"""The sessions a request can be booked into: a station's open times that fit what was said.

What fits is read from the wanted time (handlers/rehab/times.py) and the service named
(康复评估, 中医理疗, 言语训练; 康复训练 names both kinds of training). When nothing fits
exactly, the choice says what there is instead: the same day at another time, or the
nearest open sessions (周四没有康复师坐诊 / 已经约满了 / 没有言语康复训练).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.engine.choices import Option
from handlers.engine.state import SlotValue
from handlers.rehab.times import Wanted
from handlers.rehab.wording import WEEKDAY_NAMES, clock_text, day_text
from nlu.normalize import normalize
from nlu.timeparse import SHANGHAI
from storage.booking_places import SlotOffer, slot_offers
from storage.bookings import WeeklySession

BOOKING_DAYS = 14  # how far ahead rehab sessions can be booked
MAX_SHOWN = 4  # numbered choices at once (conversation.md rule 10)
_NOT_A_KEYWORD = re.compile("康复|与|和|及")


@dataclass(frozen=True)
class Choice:
    """The open sessions to offer, whether they fit what was said, and what to say if not."""

    offers: tuple[SlotOffer, ...]
    exact: bool  # they fit the wanted time and service
    note: str = ""  # what there is instead (周四没有康复师坐诊。)

    @property
    def single(self) -> SlotOffer | None:
        """The one session that fits, when exactly one does."""
        return self.offers[0] if self.exact and len(self.offers) == 1 else None


def key_of(offer: SlotOffer) -> str:
    """A session as a slot keeps it: weekly session and date."""
    return f"{offer.weekly.id}@{offer.day.isoformat()}"


def parse_key(value: SlotValue) -> tuple[int, date] | None:
    """The weekly session and date of a kept session."""
    text = str(value or "")
    weekly, _, day = text.partition("@")
    if not weekly.isdigit() or not day:
        return None
    try:
        return int(weekly), date.fromisoformat(day)
    except ValueError:
        return None


def keywords(service: str) -> list[str]:
    """The words that name a service: 肢体康复训练 → 肢体, 训练; 康复评估与指导 → 评估, 指导."""
    rest = _NOT_A_KEYWORD.sub(" ", service)
    return [part[i : i + 2] for part in rest.split() for i in range(0, len(part) - 1, 2)]


async def service_names(session: AsyncSession) -> list[str]:
    """Every service a station offers, in seed order."""
    stmt = select(WeeklySession.service).where(WeeklySession.active.is_(True))
    return list(dict.fromkeys((await session.scalars(stmt.order_by(WeeklySession.id))).all()))


def services_named(text: str, services: Sequence[str]) -> list[str]:
    """The services a message names, best first: 言语康复训练 → [言语康复训练]; 康复训练 → both."""
    said = normalize(text).text
    scores = {s: sum(1 for k in keywords(s) if k in said) for s in services}
    best = max(scores.values(), default=0)
    return [s for s, score in scores.items() if best and score == best]


async def open_offers(
    session: AsyncSession, station_id: int, now: datetime, exclude: str | None = None
) -> list[SlotOffer]:
    """A station's sessions of the next days with a place left (not the one excluded)."""
    offers = await slot_offers(session, station_id, now, BOOKING_DAYS)
    return [o for o in offers if o.left > 0 and key_of(o) != exclude]


async def find_offer(
    session: AsyncSession, station_id: int, value: SlotValue, now: datetime
) -> SlotOffer | None:
    """The session a slot keeps, if it is still ahead (full or not)."""
    key = parse_key(value)
    if key is None:
        return None
    for offer in await slot_offers(session, station_id, now, BOOKING_DAYS):
        if (offer.weekly.id, offer.day) == key:
            return offer
    return None


async def fits_chosen(
    session: AsyncSession, station_id: int | None, chosen: SlotValue, wanted: Wanted, now: datetime
) -> bool:
    """Whether the session already chosen is at the time now said (对 就是十点那场)."""
    if station_id is None or chosen is None:
        return False
    offer = await find_offer(session, station_id, chosen, now)
    return offer is not None and wanted.fits(offer.starts_at, any_week=True)


def _said_day(wanted: Wanted) -> str:
    if wanted.day is None:
        return ""
    return f"周{WEEKDAY_NAMES[wanted.day.weekday()]}"


def _said_time(wanted: Wanted) -> str:
    clock = ""
    if wanted.clock is not None:
        moment = datetime.combine(date(2000, 1, 3), wanted.clock, SHANGHAI)
        clock = clock_text(moment)
    return _said_day(wanted) + (clock or wanted.part or "")


def _nearest(offers: Sequence[SlotOffer], wanted: Wanted) -> list[SlotOffer]:
    if wanted.day is None:
        return list(offers)
    around = datetime.combine(wanted.day, datetime.min.time(), SHANGHAI)
    closest = sorted(offers, key=lambda o: abs(o.starts_at - around))[:MAX_SHOWN]
    return sorted(closest, key=lambda o: o.starts_at)


async def choose(
    session: AsyncSession,
    station_id: int,
    now: datetime,
    wanted: Wanted,
    services: Sequence[str] = (),
    exclude: str | None = None,
) -> Choice:
    """The sessions to offer for what was said, best fitting first."""
    every = await slot_offers(session, station_id, now, BOOKING_DAYS)
    free = [o for o in every if o.left > 0 and key_of(o) != exclude]
    if not free:
        return Choice((), False, f"最近{BOOKING_DAYS}天的名额都约满了。")
    of_service = [o for o in free if o.weekly.service in services] if services else free
    note = ""
    if not of_service:
        note = f"这个站没有{services[0]}。" if len(services) == 1 else ""
        of_service = free
    if not wanted.said:
        return Choice(tuple(of_service), True, note)
    fit = [o for o in of_service if wanted.fits(o.starts_at)]
    if fit:
        return Choice(tuple(fit), True, note)
    other_service = [o for o in free if wanted.fits(o.starts_at)]
    if other_service:  # 康复训练 said, the time holds only an assessment: the time wins
        generic = len(services) > 1
        named = "、".join(services)
        return Choice(tuple(other_service), generic, "" if generic else f"那时没有{named}。")
    said = _said_time(wanted)
    if any(wanted.fits(o.starts_at) for o in every if key_of(o) != exclude):
        note = f"{said}已经约满了，最近还能约的："
    elif wanted.day is not None and any(o.day == wanted.day for o in of_service):
        that_day = [o for o in of_service if o.day == wanted.day]
        return Choice(tuple(that_day), False, f"{said}没有，{day_text(wanted.day)}有：")
    else:
        note = f"{said}没有康复师坐诊，最近能约的："
    return Choice(tuple(_nearest(of_service, wanted)), False, note)


def offer_name(offer: SlotOffer, *, with_day: bool) -> str:
    """How a session is shown in a numbered choice: (12月3日（周四）)上午9:00 肢体康复训练."""
    day = day_text(offer.day) if with_day else ""
    left = f"（剩{offer.left}个）" if offer.left <= 2 else ""
    return f"{day}{clock_text(offer.starts_at)} {offer.weekly.service}{left}"


def as_options(offers: Sequence[SlotOffer], *, exact: bool = True) -> list[Option]:
    """The sessions as choices; the day is left out when all are on the one day said."""
    with_day = not exact or len({o.day for o in offers}) > 1
    return [
        Option(key_of(o), offer_name(o, with_day=with_day), (f"{o.weekly.therapist}老师",))
        for o in offers
    ]


def choice_prompt(station: str, choice: Choice, ask: str) -> str:
    """The question before the numbered sessions: what there is, on which day, and ask."""
    shown = choice.offers[:MAX_SHOWN]
    if not shown:
        return f"{station}{choice.note}可以换个站，或回复“转人工”请工作人员帮您。"
    if not choice.exact:
        return f"{station}{choice.note}"
    if len({o.day for o in shown}) == 1:
        return f"{choice.note}{station} {day_text(shown[0].day)}有这几场，{ask}"
    return f"{choice.note}{station}最近能约的，{ask}也可以直接说哪天，比如：周四上午。"
