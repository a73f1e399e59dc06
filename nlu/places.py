"""Places as residents say them (rule 8): the whole address, never a fragment.

The NLU model marks `location` spans only as well as its training data lets it: a
community, street, town or village it never saw is missed or cut ("光华社区12号楼3单元"
→ "光华"). This module reads the address grammar around those spans — administrative
parts, streets, compounds, buildings, units, floors and landmarks, each a name of a few
characters followed by its place word — and returns the longest coherent address, in the
original characters of the message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from nlu.normalize import Normalized, normalize


@dataclass(frozen=True)
class Place:
    """A place as said: its text in the original message and where it is."""

    text: str
    start: int
    end: int
    plain: str = ""  # the same place normalised (simplified characters, digits): for records


_NUM = r"(?:[0-9]{1,4}|[A-Za-z])"
# place words that end a named part (a name of 1-6 hanzi before them belongs to the place)
_ADMIN = r"(?:自治区|省|市|区|县|镇|乡|街道|村委会|居委会|村|社区|屯|组)"
_STREET = r"(?:大街|大道|北街|南街|东街|西街|中街|北巷|南巷|东巷|西巷|中巷|胡同|路|街|巷|弄|道)"
_COMPOUND = r"(?:小区|花园|家园|新村|新城|公寓|大院|苑|园|院|里|庄|府|湾|城|广场|大厦|中心)"
# institutions and buildings named after their place (向阳镇中心小学, 师范学校家属楼, 桃源村卫生所)
_INSTITUTION = (
    r"(?:小学|中学|大学|学校|幼儿园|医院|卫生所|卫生院|诊所|菜市场|市场|超市|商场|公园|车站|"
    r"家属楼|家属院|宿舍楼|宿舍|大厦|饭店|酒店|宾馆|银行|邮局|加油站|华庭|名都|华府|山庄|公馆|"
    r"政府|集市|大集)"
)
_NAMED_WORD = rf"(?:{_INSTITUTION}|{_ADMIN}|{_STREET}|{_COMPOUND})"
_BUILDING = (
    rf"(?:{_NUM}(?:号楼|栋|幢|座|号院|号)(?:[0-9]{{3,4}}(?:室|号)?)?|{_NUM}区|{_NUM}期|"
    rf"{_NUM}单元(?:[0-9]{{3,4}}(?:室|号)?)?|{_NUM}(?:楼|层)(?![道梯下])|"
    rf"[一二三四五六七八九十]{{1,3}}(?:组|队|排)|"
    rf"{_NUM}排|{_NUM}(?:室|户))"
)
_LANDMARK = (
    r"(?:[东南西北]{1,2}(?:门|侧|边|头|口)(?!村|镇|乡|街|路|巷)|大门口|大门|门口|门前|楼下|楼上|楼道|楼梯口|楼梯间|"
    r"单元门|拐角|路口|十字路口|丁字路口|对面|旁边|附近|后面|前面|里面|外面|后头|前头|"
    r"公交站|站牌|车站|停车场|车棚|自行车棚|垃圾站|垃圾桶|广场|公园|菜市场|市场|超市|"
    r"小卖部|商店|学校|小学|中学|幼儿园|医院|卫生院|诊所|药店|加油站|邮局|银行|饭店|"
    r"党群服务中心|服务中心|村委会|居委会|物业|健身器材|篮球场|花坛|绿化带|那段|那片|"
    r"那块|那边|一带|这边|之间|中间|往[东南西北]那段|往[东南西北]|[东南西北]段)"
)
# a name: hanzi that are not function words or problem words
_NOT_NAME = "想找要去帮给我你他她们的了在是有没不这那个就都也还又很把被让叫说问请烦坏"
_NAME_CHAR = rf"(?:(?![{_NOT_NAME}])[一-鿿])"
# a one-character place word (路, 村, 院 …) needs a name of two or more before it: 南关路,
# 太平村 — not 动道 in 走不动道, 菜市 in 菜市场
_ONE_CHAR_WORD = r"[省市区县镇乡村屯组路街巷弄道苑园院里庄府湾城]"
_MULTI_WORD = "|".join(
    word
    for group in (_INSTITUTION, _ADMIN, _STREET, _COMPOUND)
    for word in group.removeprefix("(?:").removesuffix(")").split("|")
    if len(word) > 1
)
_NAMED = rf"(?:{_NAME_CHAR}{{1,6}}?(?:{_MULTI_WORD})|{_NAME_CHAR}{{2,6}}?{_ONE_CHAR_WORD})"
_PIECE = rf"(?:{_LANDMARK}|{_NAMED}|{_BUILDING}|和|跟|与|的)"
_ADDRESS = re.compile(rf"(?:{_PIECE} ?){{1,12}}")
# words that look like place words but are not places (路灯 has 路, 下水道 has 道 …)
_NOT_PLACE = re.compile(
    r"(?:路灯|路过|路面|灯|下水道|道路|马路上|水道|管道|通道堵|街坊|院子里|楼道灯|巷子里|园林|公园里|"
    r"一个人|一天|两天|好几天|几天|天天|半天|整天|礼拜|星期|周[一二三四五六日天末]|"
    r"上午|下午|晚上|早上|中午|今天|明天|后天|昨天|前天|月底|年底|点|半|分钟|小时)"
)
# leading words that are never part of the place
_LEAD = re.compile(
    r"^(?:那块|这块|那边|这边|那里|这里|那儿|这儿|我们|我家|俺家|咱家|俺们|咱们|我妈家|我爸家|家住|住在|住|在|就在|是|就是|那个|这个|"
    r"嗯|啊|哦|的|那|这|就|还|又|也|都|里|往|到|去|从| ){1,8}"
)
_TRAIL = re.compile(r"(?:的|和|跟|与|那个|这个|那盏|这盏|那根|那|这|里| ){1,6}$")
_PROBLEM = re.compile(r"(?:坏|不亮|漏|堵|臭|吵|破|塌|裂|脏|乱|积水|没人|没水|没电|停|冒|味)")
_GATE = re.compile(r"^[东南西北]{1,2}(?:门|侧|口)$")  # 西门 alone names a place (a correction)
_GENERIC_ONLY = re.compile(
    rf"^(?:{_LANDMARK}|院|里|区|园|城|中心|道|路|街|小区|社区|村|楼|这里|那里)$"
)
MIN_CHARS = 2
MAX_CHARS = 80


def _named(text: str) -> bool:
    return re.search(_NAMED_WORD, text) is not None or re.search(_BUILDING, text) is not None


def names_a_place(text: str) -> bool:
    """True when a place names a community, street, compound, village … (not just 2楼拐角)."""
    return re.search(rf"{_NAME_CHAR}{_NAMED_WORD}", normalize(text).text) is not None


def _candidates(plain: str) -> list[tuple[int, int]]:
    """Runs of address pieces in the normalised text, trimmed of leading and trailing glue."""
    found = []
    for match in _ADDRESS.finditer(plain):
        start, end = match.span()
        chunk = plain[start:end]
        lead = _LEAD.match(chunk)
        if lead is not None:
            start += lead.end()
        chunk = plain[start:end]
        trail = _TRAIL.search(chunk)
        if trail is not None:
            end -= len(trail.group(0))
        if end - start >= MIN_CHARS:
            found.append((start, end))
    return found


def _clean(plain: str, start: int, end: int) -> tuple[int, int] | None:
    """Cut a candidate at the first word that is not a place (路灯, 好几天 …)."""
    for bad in _NOT_PLACE.finditer(plain):
        if bad.end() <= start or bad.start() >= end:
            continue
        if bad.start() <= start:
            start = bad.end()
        else:
            end = bad.start()
        if end <= start:
            return None
    problem = _PROBLEM.search(plain[start:end])
    if problem is not None:
        end = start + problem.start()
    chunk = plain[start:end]
    trail = _TRAIL.search(chunk)
    if trail is not None:
        end -= len(trail.group(0))
    lead = _LEAD.match(plain[start:end])
    if lead is not None:
        start += lead.end()
    chunk = plain[start:end]
    if end - start < MIN_CHARS or (_GENERIC_ONLY.match(chunk) and not _GATE.match(chunk)):
        return None
    return start, end


def _score(plain: str, span: tuple[int, int], marked: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    start, end = span
    chunk = plain[start:end]
    overlaps = sum(1 for s, e in marked if s < end and e > start)
    return (overlaps, int(_named(chunk)), end - start)


def find_place(text: str, spans: Sequence[tuple[int, int]] = ()) -> Place | None:
    """The place the message names, in full: NLU's location spans (offsets into `text`) grown
    to the whole address as said, or found by the address grammar when NLU found none."""
    if not text.strip():
        return None
    norm = normalize(text[:400])
    plain = norm.text
    mapped = [_to_plain(norm, s, e) for s, e in spans]
    marked = [m for m in mapped if m is not None]
    best: tuple[int, int] | None = None
    best_score: tuple[int, ...] = ()
    for span in _candidates(plain):
        cleaned = _clean(plain, *span)
        if cleaned is None:
            continue
        score = _score(plain, cleaned, marked)
        if best is None or score > best_score:
            best, best_score = cleaned, score
    if best is None:
        best = _marked_only(plain, marked)
        if best is None:
            return None
    elif best_score[0] == 0 and marked:
        fallback = _marked_only(plain, marked)
        if fallback is not None and not _named(plain[best[0] : best[1]]):
            best = fallback
    if not _named(plain[best[0] : best[1]]) and not marked and not _landmark_place(plain, best):
        return None
    start, end = norm.to_original(*best)
    value = text[start:end].strip()
    if len(value) < MIN_CHARS or len(value) > MAX_CHARS:
        return None
    return Place(value, start, start + len(value), plain[best[0] : best[1]].strip())


def _landmark_place(plain: str, span: tuple[int, int]) -> bool:
    """A landmark with a name before it (邮局门口, 加油站往北那段) is a place; 门口 alone is not."""
    chunk = plain[span[0] : span[1]]
    if _GATE.match(chunk):
        return True
    return len(chunk) >= 4 and re.search(_LANDMARK, chunk) is not None


def _marked_only(plain: str, marked: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """The NLU's own span (joined when several), when the grammar found nothing around it."""
    if not marked:
        return None
    start, end = min(s for s, _ in marked), max(e for _, e in marked)
    if end - start > MAX_CHARS:
        start, end = marked[0]
    return (start, end) if end - start >= MIN_CHARS else None


def _to_plain(norm: Normalized, start: int, end: int) -> tuple[int, int] | None:
    """An original-text span as a span of the normalised text (the characters it maps to)."""
    inside = [i for i in range(len(norm.text)) if norm.starts[i] >= start and norm.ends[i] <= end]
    return (inside[0], inside[-1] + 1) if inside else None


def is_place_answer(text: str) -> bool:
    """True when a short answer to "where is it?" reads as a place (not yes/thanks/a question)."""
    plain = normalize(text).text.strip()
    if not MIN_CHARS <= len(plain) <= MAX_CHARS:
        return False
    if re.search(r"[?？吗]$|什么|怎么|多久|几点|谢谢|不用|算了|取消", plain):
        return False
    return find_place(text) is not None
