"""The home-care form: whom it is for first, then the visit, or what staff need to assess.

1. Whom (为谁): an elder on the resident's roster by name or relation ("我妈", "老太太",
   "赵桂兰"); a resident with exactly one elder on file has that elder shown in the
   confirmation. Nothing about the roster is answered before whom is known.
2. An elder on the roster with hours: the service (by name, another name or number), the
   time when the service needs one (a meal), the confirmation, then the order (J…) that
   contracted providers claim. Hours used up this month: staff are asked to call back.
3. Someone not on the roster (or on it but not in an eligible group): age, living alone or
   with family, the address in full, the services wanted, the confirmation, then a ticket
   for staff to assess (category home_care) with everything said.

Whatever a message gives (age, lives alone, address, service, time, phone) is kept,
whichever question was asked.
"""

from __future__ import annotations

import re

from handlers.engine import details
from handlers.engine.answers import AnswerKind
from handlers.engine.choices import Option
from handlers.engine.forms import Form, OnSilence, Slot, never
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from handlers.home_care import elders, when
from handlers.home_care.address import corrected_address
from handlers.home_care.filing import (
    CATEGORY,
    file_assessment,
    place_order,
    quota_left,
    refer_quota,
)
from handlers.home_care.items import COMMON, hours_text, item_by_label, item_options, match_item
from handlers.reports.places import place_answer, place_in
from nlu.normalize import normalize
from nlu.places import names_a_place
from nlu.timeparse import SHANGHAI
from storage.home_care import elders_of

ALONE, WITH_FAMILY = "独居", "和家人同住"
# a piece of an address: 6号楼202, 2排5号, 3单元402, 18号
_ADDRESS_PIECE = re.compile(
    r"\d{1,4}(?:号楼|栋|幢|号院|排|组|单元)\d{0,4}(?:号|室|户)?(?:\d{1,4}(?:号|室|户)?)?|\d{1,5}(?:号|室|户)"
)
_AGE_AFTER_PRONOUN = re.compile(r"[他她](?:今年)?(\d{2,3})(?![\d号楼栋单元室层点岁年月日天块元])")
ELDER_AGES = range(50, 121)
_ALONE = re.compile(
    r"自己一个人(?![来去做弄])|一个人在[一-龥]{1,10}住|家里[一-龥]{1,4}一个人(?![来去])"
    r"|没儿没女|身边没人"
)
_WITH_SPOUSE = re.compile(r"我们俩住|我们两个住|俩人住|两个人住|老两口|跟老伴住|和老伴住")
SERVICE_WORDS = ("居家养老", "上门服务")
POLICY_LINE = "政府购买的居家养老服务面向特困、低保、优抚对象中失能、半失能、空巢、独居的老人。"
# policy questions asked in the middle and the words that name them (NLU unsure)
QUESTIONS = (
    ("home_care_hours_fee", ("钱", "收费", "费用", "免费", "几个小时", "多少小时", "多长时间")),
    ("home_care_eligibility", ("哪些老人", "什么样的老人", "条件", "能申请", "能不能申请", "低保")),
    ("home_care_items", ("哪些项目", "哪些服务", "什么服务", "包括", "都有啥", "都有什么")),
)


# -- what the request is about -------------------------------------------------------------


def _is_new(turn: Turn) -> bool:
    """The request is for someone not on the roster: staff must assess them first."""
    return elders.new_elder(turn.flow) is not None


def _orders(turn: Turn) -> bool:
    """The request ends in an order: an eligible elder on the roster."""
    elder = elders.on_roster(turn.flow)
    return elder is not None and elder.eligible


def _needs_item(turn: Turn) -> bool:
    return _orders(turn) or _is_new(turn)


def _needs_time(turn: Turn) -> bool:
    item = item_by_label(turn.flow.text("item"))
    return _orders(turn) and item is not None and item.timed


# -- reading a message ---------------------------------------------------------------------


def _elder(turn: Turn) -> SlotValue:
    return elders.whom(turn.plain, elders.roster_of(turn.flow))


def _named_answer(turn: Turn) -> SlotValue:
    """A bare name answering "for whom?" ("张桂芝") is someone new."""
    text = turn.plain.strip()
    if 2 <= len(text) <= 4 and details.person_name(text) == text:
        return elders.NEW + text
    return None


def _age(turn: Turn) -> SlotValue:
    age = details.age(turn.plain)
    if age is None:  # "她83 一个人住": an age after 他/她 with nothing else to be
        said = _AGE_AFTER_PRONOUN.search(turn.plain)
        age = int(said.group(1)) if said and int(said.group(1)) in ELDER_AGES else None
    return age


def _living(turn: Turn) -> SlotValue:
    alone = details.lives_alone(turn.plain)
    if alone is None and _ALONE.search(turn.plain):  # "自己一个人", "一个人在铁指江南住"
        alone = True
    if alone is None and _WITH_SPOUSE.search(turn.plain):  # "我们俩住", "老两口"
        alone = False
    return None if alone is None else (ALONE if alone else WITH_FAMILY)


def _living_answer(turn: Turn) -> SlotValue:
    """A yes or no to "is he living alone?"."""
    kind = turn.answer.kind
    if kind is AnswerKind.YES:
        return ALONE
    return WITH_FAMILY if kind is AnswerKind.NO else None


def _item(turn: Turn) -> SlotValue:
    item = match_item(elders.affirmed(turn.plain))  # "不是理发 是助浴": 助浴
    return item.label if item else None


def _time(turn: Turn) -> SlotValue:
    return when.visit_time(elders.affirmed(turn.plain), turn.ctx.now)


def _phone(turn: Turn) -> SlotValue:
    return details.phone(turn.plain)


def _location(turn: Turn) -> SlotValue:
    place = place_in(turn)
    if place is not None and not names_a_place(str(place)):
        place = None  # "他82了": NLU may mark an age; a home has a street, compound or village
    if turn.flow.asking == "location":  # the answer to "where?" as said, when it is one
        said = place_answer(turn)
        if said is not None and (place is None or str(place) in str(said)):
            return said
    return place


def _corrected_piece(turn: Turn) -> SlotValue:
    """In a correction of the address, the piece said again ("是6号楼202", "是2排5号")."""
    if turn.focus is None or turn.flow.get("location") is None:
        return None
    found = _ADDRESS_PIECE.search(elders.affirmed(turn.plain))
    return found.group(0) if found else None


# -- asking --------------------------------------------------------------------------------


async def _elder_options(turn: Turn) -> list[Option]:
    return elders.elder_options(turn.flow) if len(elders.roster_of(turn.flow)) > 1 else []


async def _item_options(turn: Turn) -> list[Option]:
    return item_options()


async def _ask_elder(turn: Turn) -> str:
    if len(elders.roster_of(turn.flow)) > 1:
        return "请问是为哪位老人申请？回复数字，或直接说名字。"
    return "请问是为哪位老人申请？比如：我妈、我爸，或老人的名字。"


async def _ask_item(turn: Turn) -> str:
    names = "、".join(item.label for item in COMMON[:2])
    if _is_new(turn):
        return f"想要哪些上门服务？比如：{names}。"
    return f"为{elders.shown(turn.flow)}申请哪项上门服务？其他的直接说，比如：代买药品。"


async def _ask_time(turn: Turn) -> str:
    item = turn.flow.text("item")
    return f"希望哪天什么时候上门{item}？比如：明天中午、周五上午。"


async def _ask_age(turn: Turn) -> str:
    return f"好的，先帮{elders.shown(turn.flow)}登记。老人今年多大年纪？比如：78岁。"


# -- the confirmation and the ending -------------------------------------------------------


async def _summary(turn: Turn) -> str:
    """The confirmation line; or, when the month's hours are used up, the referral to staff."""
    flow = turn.flow
    elder = elders.on_roster(flow)
    if elder is not None and elder.eligible:
        item = item_by_label(flow.text("item"))
        if item is None:
            raise KeyError(f"no home-care service {flow.text('item')!r} in the request")
        start = when.start_of(flow.get("time"), turn.ctx.now)
        left = await quota_left(turn, elder.elder_id, start)
        if left < item.minutes:
            return await refer_quota(turn, elder.elder_id, item, start, left)
        month = start.astimezone(SHANGHAI).month
        return (
            f"为{elders.shown(flow)}申请上门【{item.label}】，约 {hours_text(item.minutes)}，"
            f"时间：{when.shown(flow.get('time'), turn.ctx.now)}。\n"
            f"{month}月还剩 {hours_text(left)}，服务免费。对吗？回复“对”提交，要改直接说。"
        )
    if elder is not None:
        return (
            f"{elder.name}目前不在服务名单的条件内。{POLICY_LINE}\n"
            "可以请社区工作人员联系您、上门评估。回复“对”登记评估，不需要就说“不用了”。"
        )
    return (
        f"为{elders.shown(flow)}登记居家养老服务评估：{_facts(turn)}。\n"
        "对吗？回复“对”提交，社区工作人员会联系您上门评估。"
    )


def _facts(turn: Turn) -> str:
    """Age, living situation, address and services, as the assessment summary lists them."""
    flow = turn.flow
    parts = [
        f"{flow.text('age')}岁" if flow.get("age") else "",
        flow.text("living"),
        flow.text("location"),
        f"想要{flow.text('item')}" if flow.get("item") else "",
        f"电话 {flow.text('phone')}" if flow.get("phone") else "",
    ]
    return "，".join(part for part in parts if part)


async def _complete(turn: Turn) -> None:
    if _orders(turn):
        await place_order(turn)
    else:
        await file_assessment(turn, _facts(turn))


async def _start(turn: Turn) -> None:
    """Read the resident's elders; with exactly one, that elder unless the message says else."""
    links = await elders_of(turn.ctx.session, turn.ctx.resident)
    elders.keep_roster(turn.flow, links)
    roster = elders.roster_of(turn.flow)
    if len(roster) == 1:
        turn.flow.values["elder"] = roster[0].value
        turn.flow.asking = "elder"  # the first message may still name someone else


def recognises(text: str) -> bool:
    """A message naming home care in its own words ("给我妈约个做饭的", "我妈上门服务的事")."""
    plain = normalize(text).text
    if any(word in plain for word in SERVICE_WORDS):
        return True
    if match_item(elders.affirmed(plain)) is None:
        return False
    # the one who comes is 阿姨 or 师傅: "想约个做饭的阿姨"
    helper = ("上门", "老人", "阿姨", "派人", "派个人", "来个人", "来人")
    return elders.kin_words(plain) or any(word in plain for word in helper)


def _on_silence(turn: Turn) -> OnSilence | None:
    """Silence before an assessment is filed: staff get what was said, with the address."""
    if _orders(turn) or turn.flow.get("elder") is None:
        return None
    return OnSilence(CATEGORY, turn.flow.text("location") or None)


def _slots() -> tuple[Slot, ...]:
    return (
        Slot(
            "elder",
            "为谁",
            _ask_elder,
            extract=(_elder,),
            when_asked=(_named_answer,),
            options=_elder_options,
            show=lambda turn, value: elders.shown(turn.flow, value),
        ),
        Slot("age", "年龄", _ask_age, extract=(_age,), required=_is_new),
        Slot(
            "living",
            "居住情况",
            "老人是一个人住吗？比如：一个人住，或跟儿女住。",
            extract=(_living,),
            when_asked=(_living_answer,),
            required=_is_new,
        ),
        Slot(
            "location",
            "地址",
            "老人住在哪里？请说详细地址，比如：幸福里小区8号楼1单元201。",
            extract=(_location, _corrected_piece),
            when_asked=(place_answer,),
            required=_is_new,
            merge=corrected_address,
        ),
        Slot(
            "item", "服务", _ask_item, extract=(_item,), options=_item_options, required=_needs_item
        ),
        Slot(
            "time",
            "时间",
            _ask_time,
            extract=(_time,),
            required=_needs_time,
            show=lambda turn, value: when.shown(value, turn.ctx.now),
        ),
        Slot("phone", "电话", "方便留个电话吗？", extract=(_phone,), required=never),
    )


FORM = Form(
    title="居家养老申请",
    name="home_care",
    intents=("request_home_care",),
    slots=_slots(),
    complete=_complete,
    summary=_summary,
    on_start=_start,
    withdrawn="好的，这次先不申请了。需要时随时告诉我。",
    silence=_on_silence,
    questions=QUESTIONS,
    recognises=recognises,
)
FORMS = (FORM,)
