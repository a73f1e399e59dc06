"""Which 吉康之家 station a message names: by number, name, part of it, sound, or neighbourhood.

A station is named by its name or a part of it (东关, 铁指江南那个, 吉康之家东关的), as
voice-to-text writes it (铁只江南), or, when the bot asked which station, by a word of its
address or a place of its grid (北街那个, 党群服务中心一楼的, 安康小区那边). A clause said
against a station (铁指那边太远了, 不是东关) does not name it. A place that is no station
(光华社区) is answered with what there is instead: the station of its grid, or all of them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.engine.choices import Option, match_option
from handlers.engine.forms import Accept, Refuse, Verdict
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from nlu.places import names_a_place
from storage.bookings import RehabStation, list_stations
from storage.community import match_grid

BRAND = "吉康之家"
NOT_HERE = "?"  # a station value starting so is a place with no station (refused)
_CLAUSE = re.compile(r"[\s,，。.!！?？;；、~～]+")
_AGAINST = re.compile(r"太远|远了|不去|不要|不是|去不了|不方便|不想|不近")
_PLACE_TAIL = re.compile(r"(?:那边|这边|那块|那片|附近|一带|周边|旁边){1,4}$")


def short_address(station: RehabStation) -> str:
    """The first part of a station's address (东关北街16号)."""
    return station.address.split()[0] if station.address.strip() else station.address


def _aliases(station: RehabStation) -> tuple[str, ...]:
    bare = station.name.replace(BRAND, "").strip()
    names = [bare, bare.removesuffix("社区"), bare.removesuffix("小区")]
    return tuple(dict.fromkeys(n for n in names if len(n) >= 2 and n != station.name))


async def _hints(session: AsyncSession, station: RehabStation) -> tuple[str, ...]:
    """Its address words and the places of its grid (the neighbourhood it serves)."""
    words = [w for w in station.address.split() if len(w) >= 2]
    grid = await match_grid(session, station.address)
    if grid is not None:
        words += [p.name for p in grid.places if len(p.name) >= 3]
    return tuple(dict.fromkeys(words))


async def station_options(session: AsyncSession, *, with_hints: bool) -> list[Option]:
    """The stations as choices: name and its parts; with_hints: address and grid places too."""
    options = []
    for station in await list_stations(session):
        hints = await _hints(session, station) if with_hints else ()
        options.append(Option(str(station.id), station.name, _aliases(station), hints))
    return options


async def options_for(turn: Turn) -> Sequence[Option]:
    """The choices shown and matched when the bot asks which station."""
    return await station_options(turn.ctx.session, with_hints=turn.flow.asking == "station")


def _named(text: str, options: Sequence[Option]) -> str | None:
    """The station a clause of the text names, the first clause that names one for it."""
    for clause in _CLAUSE.split(text):
        if not clause or _AGAINST.search(clause):
            continue
        match = match_option(clause, options, numbered=False)
        if match.option is not None:
            return match.option.key
    return None


async def named_station(session: AsyncSession, text: str) -> str | None:
    """The station a text names by name or a part of it (no neighbourhood words)."""
    return _named(text, await station_options(session, with_hints=False))


async def station_in(turn: Turn) -> SlotValue:
    """The station the message names; a place that is none is kept to be refused."""
    session = turn.ctx.session
    options = await station_options(session, with_hints=turn.flow.asking == "station")
    if len(options) == 1:
        return options[0].key
    named = _named(turn.text, options)
    if named is not None:
        return named
    place = turn.place
    if turn.flow.get("station") is None and place is not None and names_a_place(place.text):
        if not any(o.name in place.text for o in options):
            return NOT_HERE + _PLACE_TAIL.sub("", place.text)
    return None


async def check_station(turn: Turn, value: SlotValue) -> Verdict:
    """A station is taken; a place with none is told what there is instead."""
    text = str(value or "")
    if not text.startswith(NOT_HERE):
        return Accept(value)
    place = text[len(NOT_HERE) :]
    session = turn.ctx.session
    grid = await match_grid(session, place)
    stations = await list_stations(session)
    near = [s for s in stations if grid is not None and await _in_grid(session, s, grid.id)]
    if not near:
        return Refuse(f"{place}没有{BRAND}。")
    names = "、".join(f"{s.name}（{short_address(s)}）" for s in near[:2])
    return Refuse(f"{place}没有{BRAND}，离得近的是{names}。")


async def _in_grid(session: AsyncSession, station: RehabStation, grid_id: int) -> bool:
    grid = await match_grid(session, station.address)
    return grid is not None and grid.id == grid_id


async def station_of(session: AsyncSession, value: SlotValue) -> RehabStation | None:
    """The station a slot holds."""
    text = str(value or "")
    if not text.isdigit():
        return None
    return await session.get(RehabStation, int(text))
