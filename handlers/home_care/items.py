"""The 21 one-to-one home-care services (21项一对一服务) and how long each visit usually takes.

The expected minutes are booked against the elder's monthly quota when the order is
made; the provider reports the real hours when the visit is done. `words` are the ways
residents name a service (what the NLU `service_item` entity picks out of a message).
A `timed` service is tied to a time of day (a meal, a doctor's appointment), so the
order asks when; for the others the provider calls to agree on a time once it claims.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.dialogue import squeeze
from handlers.engine.choices import Option


@dataclass(frozen=True)
class CareItem:
    """One home-care service: its name for residents, usual length and other names."""

    label: str
    minutes: int
    words: tuple[str, ...] = ()
    timed: bool = False  # the visit must be at a time the resident names (a meal)
    # said around other words ("降压药吃完了 能帮着买点送过去吗"): a pattern of the squeezed text
    pattern: re.Pattern[str] | None = None


ITEMS: tuple[CareItem, ...] = (
    CareItem(
        "做饭", 120, ("做饭", "做个饭", "做做饭", "煮饭", "做顿饭", "热乎饭", "做点饭"), timed=True
    ),
    CareItem("打扫卫生", 120, ("打扫", "收拾屋", "保洁", "搞卫生", "擦窗", "拖地")),
    CareItem("助浴", 90, ("助浴", "洗澡", "洗洗澡", "洗个澡", "擦身", "擦澡")),
    CareItem("理发", 60, ("理发", "剪头", "理个发", "理理发", "剪发", "剃头")),
    CareItem("测血压", 30, ("血压",)),
    CareItem(
        "代买药品",
        60,
        ("买药", "买点药", "送药", "送点药", "代买", "拿药"),
        pattern=re.compile(r"药.{0,12}?[买送拿取开]|[买送拿取开].{0,6}?药"),
    ),
    CareItem("陪同就医", 180, ("陪同", "陪诊", "就医", "看病", "复查"), timed=True),
    CareItem("洗衣服", 90, ("洗衣", "洗被", "拆洗")),
    CareItem("洗头", 30, ("洗头",)),
    CareItem("送餐", 30, ("送饭", "送餐"), timed=True),
    CareItem("代购日用品", 60, ("买菜", "代购", "买东西", "日用品")),
    CareItem("陪伴聊天", 60, ("聊天", "陪聊", "说说话")),
    CareItem("生活照料", 120, ("生活照料", "帮把手", "护理员")),
    CareItem("医疗护理", 60, ("医疗护理", "换药", "打针", "输液")),
    CareItem("测血糖", 30, ("血糖",)),
    CareItem("康复按摩", 60, ("按摩", "推拿")),
    CareItem("修剪指甲", 30, ("指甲", "修脚")),
    CareItem("助行散步", 60, ("散步", "遛弯", "出门走走")),
    CareItem("代办缴费", 60, ("缴费", "交电费", "交水费")),
    CareItem("安全探访", 30, ("探访", "探望", "巡访")),
    CareItem("助餐喂饭", 60, ("喂饭", "助餐"), timed=True),
)
COMMON = ITEMS[:4]  # offered as numbered choices when the message names no service


def item_by_label(label: str | None) -> CareItem | None:
    """The service with this exact name."""
    return next((item for item in ITEMS if item.label == label), None)


def match_item(text: str | None) -> CareItem | None:
    """The service a phrase names (做个饭 → 做饭, 量血压 → 测血压), or None.

    With several named, the one said first wins ("不是理发 是助浴" is read after 不是).
    """
    if not text:
        return None
    bare = squeeze(text)
    best: tuple[int, int, CareItem] | None = None
    for item in ITEMS:
        for word in (item.label, *item.words):
            at = bare.find(word)
            if at < 0:
                continue
            rank = (at, -len(word))
            if best is None or rank < (best[0], best[1]):
                best = (rank[0], rank[1], item)
    if best is None:
        found = next(
            ((item, m) for item in ITEMS if item.pattern and (m := item.pattern.search(bare))), None
        )
        if found is not None:
            return found[0]
    return best[2] if best else None


def item_options() -> list[Option]:
    """The common services as numbered options (by number, name or another name)."""
    return [Option(item.label, item.label, aliases=item.words) for item in COMMON]


def hours_text(minutes: int) -> str:
    """2 小时, 1.5 小时, 0.5 小时: hours as residents read them."""
    return f"{round(minutes / 60, 1):g} 小时"
