"""Whom a home-care request is for: an elder on the roster, or someone new to assess.

A resident names the elder by relation ("我妈", "我家老爷子", "老太太"), by name ("赵桂兰",
"隔壁的李奶奶") or as themselves ("就是我", "帮我做顿饭"). The elders this resident may ask
for (seed/home_care.yml `requesters`) are read once when the request starts and kept in
the request as `Roster` lines, so every later message is matched against them without a
query. The elder slot holds "roster:<id>" for an elder on file with this resident, or
"new:<who>" (a relation like 母亲, or a name) for someone not on the roster.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from handlers.engine import details
from handlers.engine.choices import Option
from handlers.engine.state import FlowState, SlotValue
from storage.home_care import CareElder

ROSTER_KEY = "roster"  # where the request keeps the resident's elders (not a slot)
ON_ROSTER, NEW = "roster:", "new:"
SELF = "本人"
FEMALE = "老太太"  # a woman of the family, unnamed: the one elder of hers on file


@dataclass(frozen=True)
class Kin:
    """One way of naming a relative: the label kept, how it is shown, the words for it."""

    label: str
    shown: str
    words: tuple[str, ...]
    on_file_as: tuple[str, ...]  # the roster relations it may be (seed `relation`)


KIN: tuple[Kin, ...] = (
    Kin(
        "母亲",
        "您母亲",
        ("老母亲", "母亲", "妈妈", "老妈", "我妈", "俺妈", "我娘", "俺娘", "妈", "娘"),
        ("母亲",),
    ),
    Kin(
        "父亲",
        "您父亲",
        ("老父亲", "老爷子", "父亲", "爸爸", "老爸", "我爸", "俺爸", "我爹", "老爹", "爸", "爹"),
        ("父亲",),
    ),
    Kin("配偶", "您老伴", ("老伴", "老公", "爱人", "媳妇", "丈夫", "妻子"), ("配偶",)),
    Kin("奶奶", "您奶奶", ("奶奶",), ("祖母",)),
    Kin("姥姥", "您姥姥", ("姥姥", "外婆"), ("外祖母", "祖母")),
    Kin("爷爷", "您爷爷", ("爷爷",), ("祖父",)),
    Kin("姥爷", "您姥爷", ("姥爷", "外公"), ("外祖父", "祖父")),
    Kin("婆婆", "您婆婆", ("婆婆",), ("婆婆",)),
    Kin("公公", "您公公", ("公公",), ("公公",)),
    Kin("岳母", "您岳母", ("岳母", "丈母娘"), ("岳母",)),
    Kin("岳父", "您岳父", ("岳父", "老丈人"), ("岳父",)),
    Kin("姑姑", "您姑姑", ("姑姑", "姑妈"), ("姑姑",)),
    Kin("姨", "您姨", ("姨妈", "小姨"), ("姨",)),
    Kin("舅舅", "您舅舅", ("舅舅",), ("舅舅",)),
    Kin(FEMALE, "您家老人", ("老太太", "老太"), ("母亲", "祖母", "外祖母", "婆婆", "岳母")),
    Kin(SELF, "您本人", ("我自己", "我本人", "本人"), (SELF,)),
)
_BY_LABEL = {kin.label: kin for kin in KIN}
# "给我理理发", "帮我做顿饭", "就是我": the resident asks for themselves
_SELF = re.compile(
    r"(?:给|帮|替)我(?:来)?(?=做|理|剪|洗|买|测|量|打扫|收拾|送|拿)"
    r"|就是我(?![一-龥])|就我(?![一-龥])"
)
_SELF_WORDS = re.compile(r"我自己|我本人|本人|(?:给|为|帮|替)我|就是我|就我|我")
# 隔壁的李奶奶, 张大爷: a neighbour by family name and title, not a relative of the writer
_TITLED = re.compile(
    r"(?![我你他她俺咱的个家这那老大小])[一-龥]"
    r"(?:奶奶|大爷|大妈|大娘|爷爷|阿姨|叔叔|老太太|老爷子|婶)"
)
_NOT_KIN = ("姑娘", "女儿", "闺女", "儿子", "孩子", "儿媳", "女婿", "孙子", "孙女")
_NEGATED = re.compile(r"不是[^\s,，。;；!！?？]{0,6}")
# "辛苦阿姨了", "麻烦师傅": thanks to the one who comes, not whom the request is for
_THANKED = re.compile(
    r"(?:辛苦|麻烦|谢谢|感谢|多谢|有劳)(?:了|你|您|你们)?"
    r"(?:阿姨|师傅|大姐|叔叔|大哥|姑娘|小伙子|小姑娘|同志)"
)


@dataclass(frozen=True)
class Roster:
    """An elder this resident may ask for, as the request keeps it."""

    elder_id: int
    name: str
    relation: str
    eligible: bool

    def line(self) -> str:
        """The line kept in the request."""
        return f"{self.elder_id}|{self.name}|{self.relation}|{int(self.eligible)}"

    @classmethod
    def read(cls, line: str) -> Roster:
        """A line kept in the request, read back."""
        elder_id, name, relation, eligible = line.split("|")
        return cls(int(elder_id), name, relation, eligible == "1")

    @property
    def value(self) -> str:
        """The elder slot's value for this elder."""
        return f"{ON_ROSTER}{self.elder_id}"


def keep_roster(flow: FlowState, elders: Sequence[tuple[CareElder, str]]) -> None:
    """Keep the resident's elders in the request (read when it starts)."""
    flow.values[ROSTER_KEY] = [
        Roster(elder.id, elder.name, relation, elder.eligible).line() for elder, relation in elders
    ]


def roster_of(flow: FlowState) -> list[Roster]:
    """The resident's elders kept in the request."""
    lines = flow.values.get(ROSTER_KEY)
    return [Roster.read(line) for line in lines] if isinstance(lines, list) else []


def on_roster(flow: FlowState, value: SlotValue = None) -> Roster | None:
    """The roster elder the elder slot (or the value given) names, if any."""
    value = flow.values.get("elder") if value is None else value
    if not isinstance(value, str) or not value.startswith(ON_ROSTER):
        return None
    elder_id = int(value.removeprefix(ON_ROSTER))
    return next((r for r in roster_of(flow) if r.elder_id == elder_id), None)


def new_elder(flow: FlowState) -> str | None:
    """Who the request is for when that person is not on the roster (母亲, 李奶奶), or None."""
    value = flow.values.get("elder")
    if isinstance(value, str) and value.startswith(NEW):
        return value.removeprefix(NEW)
    return None


def shown(flow: FlowState, value: SlotValue = None) -> str:
    """The elder as replies name them: 赵桂兰（母亲）, 您母亲, 李奶奶."""
    elder = on_roster(flow, value)
    if elder is not None:
        return elder.name if elder.relation == SELF else f"{elder.name}（{elder.relation}）"
    value = flow.values.get("elder") if value is None else value
    who = str(value or "").removeprefix(NEW)
    kin = _BY_LABEL.get(who)
    return kin.shown if kin else who


def affirmed(text: str) -> str:
    """The text without what it denies ("是我妈 不是我爸" → "是我妈  ") nor whom it thanks."""
    text = _THANKED.sub(lambda m: " " * len(m.group(0)), text)
    return _NEGATED.sub(lambda m: " " * len(m.group(0)), text)


def kin_label(said: str) -> str:
    """The label kept for a relative as said (我家老爷子 → 父亲, 俺娘 → 母亲, 大姑 → 大姑)."""
    if said == details.SELF:
        return SELF
    word = max(
        (w for kin in KIN for w in kin.words if w in said),
        key=len,
        default=None,
    )
    if word is None or any(other in said and len(other) > len(word) for other in _NOT_KIN):
        return (
            said.removeprefix("我家").removeprefix("我们家").removeprefix("俺").removeprefix("我")
        )
    return next(kin.label for kin in KIN if word in kin.words)


def _mentions(text: str, roster: Sequence[Roster]) -> list[tuple[int, str]]:
    """Every way the text names someone, with where: (position, roster:<id> | new:… | label)."""
    found: list[tuple[int, str]] = []
    for elder in roster:
        at = text.find(elder.name)
        if at >= 0:
            found.append((at, elder.value))
    said = details.relation(text)
    if said is not None:
        at = text.find(said) if said != details.SELF else _self_position(text)
        found.append((at, kin_label(said)))
    self_said = _SELF.search(text)
    if self_said:
        found.append((self_said.start(), SELF))
    titled = _TITLED.search(text)
    if titled is not None:
        found.append((titled.start(), NEW + titled.group(0)))
    name = details.person_name(text)
    if name and not any(name in e.name or e.name in name for e in roster):
        at = text.find(name)
        found.append((at if at >= 0 else len(text), NEW + name))
    return found


def _self_position(text: str) -> int:
    said = _SELF_WORDS.search(text)
    return said.start() if said else len(text)


def _resolve(mention: str, roster: Sequence[Roster]) -> str:
    """The elder slot's value for one mention: the roster elder it names, or someone new."""
    if mention.startswith((ON_ROSTER, NEW)):
        return mention
    kin = _BY_LABEL.get(mention)
    if kin is None:  # a relative with no roster relation (大姨, 表舅): someone new to assess
        return NEW + mention
    matches = [e for e in roster if e.relation in kin.on_file_as]
    if len(matches) == 1:
        return matches[0].value
    return NEW + kin.label


def whom(text: str, roster: Sequence[Roster]) -> str | None:
    """Whom the text says the request is for (the first one it names), or None."""
    found = _mentions(affirmed(text), roster)
    if not found:
        return None
    found.sort(key=lambda hit: hit[0])
    return _resolve(found[0][1], roster)


def elder_options(flow: FlowState) -> list[Option]:
    """The resident's elders as numbered options (by name or relation)."""
    options = []
    for elder in roster_of(flow):
        kin = next((k for k in KIN if elder.relation in k.on_file_as and k.label != FEMALE), None)
        aliases = (elder.name, *(kin.words if kin else ()))
        options.append(Option(elder.value, shown(flow, elder.value), aliases=aliases))
    return options


def kin_words(text: str) -> bool:
    """True when the text names a relative or the resident themselves."""
    return bool(_mentions(affirmed(text), ()))
