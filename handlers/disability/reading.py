"""What an application's message says: for whom, what exactly, the home, a phone, a name.

Pure readings of one message (the engine tries them on every message of a request), each
quiet rather than guessing. Values are kept in the resident's words where they are words
(我妈, 看门或者保洁的活) and in one plain form where they are numbers (13812345678).
"""

from __future__ import annotations

import re

from handlers.engine import details
from handlers.engine.answers import AnswerKind, read_answer
from handlers.engine.state import SlotValue
from handlers.engine.turn import Turn
from handlers.reports.places import place_answer, place_in
from nlu.normalize import normalize
from nlu.places import names_a_place

SELF = "本人"
_CLAUSE = re.compile(r"[\s,，。.!！?？;；、~～…]+")
_LEAD = re.compile(
    r"^(?:(?:嗯+|啊|哦|喂|那个|就是|这个|比如说?|然后|还有|我们?|俺|想|要|希望|能不能|能|也|"
    r"都|就|帮我|给我|申请|办理?)\s?){1,5}"
)
_TAIL = re.compile(r"(?:啊|呀|吧|呢|哈|啥的|什么的|之类的?|等等){1,4}$")

# --- for whom --------------------------------------------------------------------------------

# the writer speaks of their own body, disability or home: the request is for themselves
_SELF_CUES = re.compile(
    r"我(?:是|有|的|这)?(?:[^，,。 ]{0,4})?(?:残疾|残障|聋|哑|盲|瘫|截肢|偏瘫|中风)"
    r"|我(?:的)?(?:一只|两只|一条|两条)?(?:腿|脚|手|胳膊|眼睛|眼|耳朵|耳|腰)"
    r"|我(?:自己)?坐轮椅|我住(?!在.{0,6}(?:家|那))"
    r"|我(?:想|要|得|准备)?(?:报名)?(?:申请|办|找)(?!.{0,3}(?:给|为|帮))"
    r"|(?:帮|给)我找"
)
# a short answer to "for whom?" naming someone outside the kin words
_OTHERS = re.compile(r"(?:家里人|家人|亲戚|朋友|邻居|同事|老乡)")
_MAX_WHOM = 8


def whom(turn: Turn) -> SlotValue:
    """Whom the application is for, as said: a relative (我妈, 老伴), or 本人 (我自己, 给我)."""
    found = details.relation(turn.text)
    return SELF if found == details.SELF else found


def speaks_of_self(turn: Turn) -> SlotValue:
    """The writer speaks of their own body, disability or home (我腿有残疾, 我住…, 我要申请).

    Only a guess at whom it is for: the application is taken as theirs unless the
    conversation names someone else, and the confirmation shows it.
    """
    return SELF if _SELF_CUES.search(normalize(turn.text).text) else None


def whom_answer(turn: Turn) -> SlotValue:
    """A short answer to "for whom?" naming someone the kin words do not (家里人, 邻居)."""
    text = _trim(turn.plain)
    found = _OTHERS.search(text)
    return found.group(0) if found and len(text) <= _MAX_WHOM else None


_OWNERS = ("我们家", "俺们家", "咱们家", "我家", "俺家", "咱家", "我的", "我", "俺", "咱")
_KIN_SHOWN = {
    "妈": "母亲",
    "妈妈": "母亲",
    "老妈": "母亲",
    "娘": "母亲",
    "老娘": "母亲",
    "爸": "父亲",
    "爸爸": "父亲",
    "老爸": "父亲",
    "爹": "父亲",
    "老爹": "父亲",
    "老头": "老伴",
    "老头子": "老伴",
    "老头儿": "老伴",
    "老太婆": "老伴",
    "老婆子": "老伴",
    "老伴儿": "老伴",
}


def shown_whom(value: SlotValue) -> str:
    """How the bot names the person to the resident: 您本人, 您母亲, 您儿子."""
    said = normalize(str(value or "")).text
    if not said or said == SELF:
        return "您本人"
    kin = said
    for owner in _OWNERS:
        if kin.startswith(owner) and len(kin) > len(owner):
            kin = kin[len(owner) :]
            break
    return "您" + _KIN_SHOWN.get(kin, kin) if details.relation(kin) else said


# --- a name, the home, the phone -------------------------------------------------------------

_NAME_CUE = re.compile(r"叫|名字|姓名|姓")


def name(turn: Turn) -> SlotValue:
    """The person's name when the message gives it (她叫刘秀英 / 名字是王淑芬)."""
    if not _NAME_CUE.search(turn.plain):
        return None
    return details.person_name(turn.text)


def home(turn: Turn) -> SlotValue:
    """The home address in full as said; a correction may give only a piece (3单元301)."""
    place = place_in(turn)
    if place is None:
        return None
    if not _MODIFICATION.sub("", normalize(str(place)).text).strip(" 的和"):
        return None  # 改个坡道: what to build, not where
    if turn.focus is not None and turn.flow.get("location") is not None:
        return place  # 不对 是3单元301: the piece is spliced into the address said
    return place if names_a_place(str(place)) else None  # 门口: no home


def home_answer(turn: Turn) -> SlotValue:
    """The answer to "where do you live?" as said, when it reads as a place."""
    return place_answer(turn)


def phone(turn: Turn) -> SlotValue:
    """A phone number the message gives."""
    return details.phone(turn.text)


_SAME_NUMBER = re.compile(
    r"(?:就|用|打)?(?:这个|原来的?|这|那个)(?:号码?|电话|手机)?(?:就行|吧|可以)?$"
)


# no number to give: staff answer in this conversation instead (the staff reply API)
IN_CHAT = "在本对话联系"
_NO_NUMBER = re.compile(r"不留|不方便|没有?手机|没电话|在这(?:里|儿)?(?:联系|说)|发消息|微信联系")


def known_phone(turn: Turn) -> SlotValue:
    """The answer to the phone question that is no new number.

    With a phone on file, a yes ("用这个号码吗？" 对 / 就打这个) takes it. Without one, "this
    one" (电话就用我这个), a yes, or "不留" means the resident is reached here, in the chat.
    """
    known = turn.ctx.resident.phone
    if details.phone(turn.text):
        return None
    same = _SAME_NUMBER.search(_trim(turn.plain)) or "用我这个" in turn.plain
    if known:
        return known if turn.answer.kind is AnswerKind.YES or same else None
    if turn.answer.kind is AnswerKind.YES or same or _NO_NUMBER.search(turn.plain):
        return IN_CHAT
    return None


# --- what exactly: a device ------------------------------------------------------------------

# assistive devices by the words residents use; the first of each row is how it is shown
DEVICES: tuple[tuple[str, ...], ...] = (
    ("轮椅", "电动轮椅", "手动轮椅", "轮椅车"),
    ("拐杖", "手杖", "拐棍", "四脚拐", "腋拐"),
    ("助听器",),
    ("助行器", "助步器", "步行器", "学步车"),
    ("坐便椅", "坐便器", "马桶椅", "移动马桶", "坐便凳"),
    ("假肢", "义肢", "假腿", "假手"),
    ("盲杖", "导盲杖"),
    ("护理床", "升降床"),
    ("洗澡椅", "沐浴椅", "洗浴椅"),
    ("防褥疮垫", "防压疮垫", "气垫床"),
    ("助视器", "放大镜"),
    ("矫形器", "矫形鞋", "支具"),
)
_DEVICE_WORD = re.compile("|".join(sorted((w for row in DEVICES for w in row), key=len)[::-1]))
MAX_FREE = 15


def device(turn: Turn) -> SlotValue:
    """The devices the message names (轮椅, 助听器, 轮椅、坐便椅), as said."""
    found = list(
        dict.fromkeys(m.group(0) for m in _DEVICE_WORD.finditer(normalize(turn.text).text))
    )
    if found:
        return "、".join(found)
    marked = turn.entity("device")
    return normalize(marked).text if marked else None


# --- what exactly: a home modification -------------------------------------------------------

# where in the home and what is done there; the first of each row is how it is shown
_ROOMS: tuple[tuple[str, ...], ...] = (
    ("卫生间", "厕所", "洗手间", "浴室", "马桶", "蹲坑", "淋浴", "洗澡"),
    ("床边", "床头", "床旁"),
    ("门口", "家门口", "进门", "门前"),
    ("楼道", "楼梯"),
    ("厨房", "灶台", "水池", "橱柜"),
    ("客厅",),
)
_WORKS: tuple[tuple[str, ...], ...] = (
    ("扶手", "把手", "栏杆"),
    ("坡道", "斜坡"),
    ("台阶",),
    ("门槛",),
    ("防滑", "地滑"),
    ("灶台改低", "灶台太高", "灶台高"),
    ("门加宽", "门太窄", "门窄", "拓宽"),
    ("呼叫器", "紧急呼叫"),
)
_ROOM_WORD = {w: row[0] for row in _ROOMS for w in row}
_WORK_WORD = {w: row[0] for row in _WORKS for w in row}
_MODIFICATION = re.compile("|".join(sorted([*_ROOM_WORD, *_WORK_WORD], key=len, reverse=True)))


def modification(turn: Turn) -> SlotValue:
    """What to modify at home, in the resident's terms: 卫生间、床边、扶手 / 门口、台阶、坡道."""
    plain = normalize(turn.text).text
    rooms: list[str] = []
    works: list[str] = []
    for found in _MODIFICATION.finditer(plain):
        word = found.group(0)
        if word in _WORK_WORD and _WORK_WORD[word] not in works:
            works.append(_WORK_WORD[word])
        elif word in _ROOM_WORD and _ROOM_WORD[word] not in rooms:
            rooms.append(_ROOM_WORD[word])
    if not works and not any(room in rooms for room in ("卫生间", "厨房")):
        return None  # 门口 or 楼道 alone is where the resident lives, not what to change
    return "、".join(rooms) + "、".join(works)  # 卫生间、床边扶手 / 门口台阶、坡道


# --- what exactly: a certificate matter ------------------------------------------------------

CERT_NEW, CERT_RENEW = "新办残疾证", "到期换证、补办"
CERT_TRANSFER, CERT_AT_HOME = "外省户口跨省通办", "上门评残（出不了门）"
_CERT = r"残疾(?:人)?证|残疾证件|残证"
_AT_HOME = re.compile(r"上门(?:评残|评定|鉴定|办)|去不了医院|出不了门|下不了床|瘫在床|卧床")
_TRANSFER = re.compile(
    r"跨省|外省|省外|异地|迁入|迁过来|迁来|转过来|转办|户口不在|外地户口|户口在外地"
)
_RENEW = re.compile(
    rf"换证|换(?:个|一个|本)?(?:新的?)?(?:{_CERT})|(?:{_CERT}).{{0,4}}(?:到期|过期|换)|"
    rf"补办|补证|补(?:个|一个)?(?:{_CERT})|(?:{_CERT}).{{0,3}}(?:丢|掉|找不到)|"
    r"到期|过期|换(?:个|本)?新的"
)
_NEW = re.compile(
    rf"新办|第一次办|没办过|(?:办|申请|申办|办理)(?:个|一个|张|一张)?(?:{_CERT})|"
    rf"(?:{_CERT}).{{0,4}}(?:办|申请)|评残|评定残疾|办证"
)
_CERT_MATTERS = (
    (CERT_AT_HOME, _AT_HOME),
    (CERT_TRANSFER, _TRANSFER),
    (CERT_RENEW, _RENEW),
    (CERT_NEW, _NEW),
)


def cert_matter(turn: Turn) -> SlotValue:
    """Which certificate matter: 上门评残, 跨省通办, 换证补办, or 新办 (办个残疾证)."""
    plain = normalize(turn.text).text
    return next((matter for matter, pattern in _CERT_MATTERS if pattern.search(plain)), None)


# --- what exactly: the work wanted -----------------------------------------------------------

# kinds of work residents name (看门, 保洁, 按摩 …)
_WORK_WORDS = (
    "保洁 保安 看门 门卫 按摩 推拿 手工 包装 打字 电脑 修鞋 木工 做账 会计 记账 看摊 客服 "
    "缝纫 编织 刺绣 厨师 帮厨 洗碗 快递 分拣 收银 剪纸 串珠 直播 电商 文员 仓库 保管 种地 "
    "养殖 种植 理发 维修 修理 焊工 电工 司机 接线 话务 手艺 画画 绘画 钢琴 调律"
).split()
_SKILL = re.compile(
    r"(会|擅长|学过|干过|做过|能干|能做|想干|想做|干点|做点|可以干|可以做)(.{1,12})"
)
_WANTED = re.compile(r"(.{1,12}?)(?:的)?(?:活儿?|工作|岗位|差事|营生)")
# words that say only "a job" (有没有适合残疾人的工作, 找个活干)
_GENERIC = re.compile(
    r"有没有|适合|残疾人|残疾|残障|家里人|家人|家里|找|个|份|一份|一个|点|些|的|给|帮|我|你们|他|她"
    r"|想|要|干|能|那种"
)
_MIN_CONTENT = 2


def work(turn: Turn) -> SlotValue:
    """The work wanted or the skills offered, as said (看门或者保洁的活, 会按摩, 电脑打字).

    Skills said (会做账) come before a kind of work named (保洁), before any other words
    about the work wanted (坐着干的活); clauses that ask (有没有适合残疾人的工作) say none.
    """
    clauses = [c for c in _clauses(normalize(turn.text).text) if not details.is_question(c)]
    for clause in clauses:
        skill = _SKILL.search(clause)
        if skill is not None and _content(skill.group(2)):
            keep = skill.group(1) in ("会", "擅长", "学过", "干过", "做过")
            said = skill.group(0) if keep else skill.group(2)
            return _TAIL.sub("", said.lstrip("点些"))
    for clause in clauses:
        if any(word in clause for word in _WORK_WORDS):
            return _wanted(clause)
    for clause in clauses:
        wanted = _WANTED.search(clause)
        if wanted is not None and _content(wanted.group(1)):
            return _wanted(clause)
    return None


_FIND = re.compile(r"^.{0,6}?找(?:个|份|点|一份|一个|些)?(?=.)")


def _wanted(clause: str) -> str:
    """The work as said, without who is looking (想找个看门的活 → 看门的活)."""
    said = _trim(clause)
    found = _FIND.match(said)
    rest = said[found.end() :] if found else said
    return rest if _content(rest) else said


def _content(text: str) -> bool:
    """Whether words say more than "a job" (and whom it is for)."""
    bare = _GENERIC.sub("", text)
    kin = details.relation(bare)
    if kin and kin != details.SELF:
        bare = bare.replace(kin, "")
    return len(bare) >= _MIN_CONTENT


# --- free answers ----------------------------------------------------------------------------


def free_answer(turn: Turn) -> SlotValue:
    """A short answer in words to "what exactly?" that gives nothing else (洗澡用的椅子)."""
    text = _trim(turn.plain)
    if not 2 <= len(text) <= MAX_FREE or details.is_question(text):
        return None
    if turn.answer.kind is not AnswerKind.NONE or details.phone(text) or details.relation(text):
        return None
    if place_in(turn) is not None:
        return None
    return text


def _clauses(plain: str) -> list[str]:
    return [part for part in _CLAUSE.split(plain) if part]


def _trim(text: str) -> str:
    text = _LEAD.sub("", text.strip(" ,，。.!！~～、"))
    return _TAIL.sub("", text).strip(" ,，。.!！~～、")


def says_yes(turn: Turn) -> bool:
    """The message says yes in words, before or after what else it gives (对 电话… / 电话… 对).

    The NLU's affirm alone is not enough here: "就是那种洗澡时候坐的凳子" is an answer.
    """
    if _COPULA.match(normalize(turn.text).text):
        return False  # 就是那种洗澡用的凳子 / 是我妈: says what it is, agrees to nothing
    return read_answer(turn.text).kind is AnswerKind.YES


_COPULA = re.compile(r"^(?:那个|嗯|就|那就)?\s?是(?![的啊呀是\s,，。!！]|$)")


def asks(turn: Turn) -> bool:
    """The message asks something (能上门评残不)."""
    return details.is_question(turn.text)
