"""For whom a sign-up is: the resident (the default), a relative as they call them, or both.

Values of the `whom` slot: "self", a relation as said (我孙女, 老伴, 我家孩子), or a list of
those for a party ("我和老伴俩人" → ["self", "老伴"]). Each person is one place (a booking):
storage keeps the person's name (本人 for the resident) and how the resident called them.
"""

from __future__ import annotations

import re

from handlers.engine.details import SELF, person_name, relation
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from nlu.normalize import normalize
from storage.bookings import SELF as SELF_PERSON

_OWNERS = ("我们家", "俺们家", "咱们家", "我家", "俺家", "咱家", "我的", "我", "俺", "咱")
_PARTY = re.compile(r"(?:我|俺|自己)(?:和|跟|带着?|同|加上|还有)([^，,。\s]{1,6})")
_PARTY_AFTER = re.compile(r"([^，,。\s]{1,6}?)(?:和|跟)(?:我|俺)(?:两个|俩|一起|都)")


def _party(text: str) -> list[str] | None:
    """Two people said together (我和老伴俩人, 我带着孙子, 老伴和我俩)."""
    plain = normalize(text).text
    for pattern in (_PARTY, _PARTY_AFTER):
        m = pattern.search(plain)
        if m is None:
            continue
        other = relation(m.group(1))
        if other is not None and other != SELF:
            return [SELF, other]
    return None


def whom_in(turn: Turn) -> SlotValue:
    """Who the message says the sign-up is for, if it says (self, a relation, or both)."""
    party = _party(turn.text)
    if party is not None:
        return list(party)
    return relation(turn.text)


def name_in(turn: Turn) -> SlotValue:
    """A relative's name given in the message (她叫李秀英)."""
    return person_name(turn.text)


def people(value: SlotValue) -> list[str]:
    """The persons of a whom value, in order ("self" when nobody was named)."""
    if value is None:
        return [SELF]
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def includes_self(value: SlotValue) -> bool:
    """Whether the resident is one of those signed up."""
    return SELF in people(value)


def bare(relation_said: str) -> str:
    """The relative without the owner word: 我孙女 → 孙女, 我家孩子 → 孩子."""
    for owner in _OWNERS:
        if relation_said.startswith(owner) and len(relation_said) > len(owner):
            return relation_said[len(owner) :]
    return relation_said


def called(relation_said: str) -> str:
    """How the bot names the relative to the resident: 我孙女 → 您孙女, 老伴 → 您老伴."""
    return "您" + bare(relation_said)


def shown(value: SlotValue, name: str | None = None) -> str:
    """The people as the confirmation names them: 您本人 / 您孙女（王小丫）/ 您本人和您老伴."""
    persons = people(value)
    words = ["您本人" if p == SELF else called(p) for p in persons]
    if name and len(persons) == 1 and persons[0] != SELF:
        words[0] += f"（{name}）"
    text = "和".join(words)
    return f"{text}（{len(words)}人）" if len(words) > 1 else text


def booked_as(person: str, name: str | None) -> tuple[str, str | None]:
    """(person, relation) as storage keeps them: 本人, or the name (else the relative)."""
    if person == SELF:
        return SELF_PERSON, None
    return (name or bare(person))[:64], person[:32]
