"""The details a request needs, read from one message whatever the bot asked (rule 1).

Pure functions over the text. Each message is read through ``nlu.normalize`` (traditional
characters, full-width digits, hanzi numbers before a measure word), and a value that is the
resident's own words (a relation, a name, a deadline) is returned in the characters they
typed (我媽, 趙桂蘭, 過年前), found through the normaliser's offset map. Numbers come back in
one plain form: phones as digits (13812345678, 0431-85201234), tickets as printed (1021, Y1008).

Every extractor is tried on every message of a request, so each one stays quiet rather than
guess: 一个人来不了 is no living situation, 两点 no age, 对 no deadline, 2单元1201 no ticket.

Conventions decided here:

* age: 快/将近/马上/奔 N (快九十了, 奔八十) is N - 1, the resident is not N yet; N多 / N来 /
  N出头 is N (a lower bound); 七八十 is 70 and 八十一二 is 81 (the lower end of a range).
  Without 岁 an age needs a cue: after 今年 / 年纪 or right after the person (我妈七十八,
  孩子十二) any age; after 都 / 已经 / 快, before 了, or as a whole message only 40–120, so
  今天都二十八了 (a date) and 十点了 are not ages. 60岁以上 (a policy question) is not an age.
  The first age said wins (我今年62 我妈86 → 62).
* relation: the words as said (我爸, 俺娘, 我家老爷子); "self" for 我自己 / 本人 / 给我 / a bare
  我. A relative who died (老伴走了), whom the elder lives with (跟儿子住) or who is the writer
  (我是她女儿) is not whom the request is for.
* lives_alone: the last statement wins (以前一个人住 现在跟我们住 → False); 空巢 (children
  away, maybe a couple) and 老伴去世了 alone say nothing about living alone (None).
* deadline: the phrase as said (下周五之前); "no rush" words (不着急, 啥时候都行) are None.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from nlu.normalize import Normalized, normalize
from storage import privacy

SELF = "self"

# --- who the request is for -------------------------------------------------------------------

# Said without an owner these still mean the writer's family (老伴, 儿子, 老爷子, 孩子).
_KIN_ALONE = (
    "老伴儿 老伴 老爷子 爸爸 妈妈 老爸 老妈 老爹 爸妈 父母 父亲 母亲 爹娘 公婆 婆婆 公公 "
    "岳父 岳母 丈母娘 老丈人 爷爷 奶奶 姥姥 姥爷 外公 外婆 祖母 祖父 儿子 女儿 闺女 儿媳妇 "
    "儿媳 女婿 孙子 孙女 外孙女 外孙 孩子 老公 老婆 媳妇 爱人 丈夫 妻子"
).split()
# These need an owner (我妈, 俺娘, 我家老头): alone they are exclamations or other people.
_KIN_OWNED = (
    "妈 爸 娘 爹 姑娘 老头子 老头儿 老头 老太太 老太婆 老婆子 爷们儿 爷们 老人 老人家 "
    "大爷 大娘 大妈 叔叔 阿姨 舅舅 舅妈 姑姑 姑妈 姨妈 小姨 大姨 伯伯 大伯 婶婶 婶子 叔 舅 "
    "姑 姨 哥哥 姐姐 弟弟 妹妹 大哥 大姐 二哥 二姐 哥 姐 弟 妹 对象 孙媳妇 小孩 娃"
).split()
_KIN = sorted({*_KIN_ALONE, *_KIN_OWNED}, key=len, reverse=True)
_OWNER = "我们家 俺们家 咱们家 我家 俺家 咱家 家里的 家里 我们 俺们 咱们 我的 俺的 咱的 我 俺 咱"
_OWNER_RE = "|".join(_OWNER.split())
_KIN_RE = "|".join(_KIN)
_KIN_ALONE_RE = "|".join(sorted(_KIN_ALONE, key=len, reverse=True))
_RELATION = re.compile(f"(?:{_OWNER_RE})(?:{_KIN_RE})|(?:{_KIN_ALONE_RE})")
# after a relative: they died, or they live elsewhere (not the person the request is for)
_GONE_AFTER = re.compile(
    r" ?(?:已经|早就|早|先|前几年|前年|去年)?(?:走了|去世|过世|没了|不在了|离世|走得早)"
)
_AWAY_AFTER = re.compile(r"们?[都也]?(?:不在|在外|工作|上班|忙|没空|离得远|住得远)")
_WITH_AFTER = re.compile(r"(?:一起|一块儿?|一道|2个人|两个人|俩)?(?:住|过|生活)")
_ADDRESS_TERMS = frozenset("奶奶 爷爷 婆婆 大爷 大娘 大妈 阿姨 叔叔 姥姥 姥爷".split())
_THIRD_PERSON_BEFORE = ("他", "她", "他们", "她们", "他的", "她的", "人家", "别人", "邻居")
_SELF_WORDS = re.compile(r"我自己|自己本人|我本人|本人|(?:给|为)自己|(?:给|为)我(?!们|家|的)")
_SELF_ONLY = re.compile(r"(?:是|就|就是|给|为)?(?:我|自己)(?:自己|本人)?(?:的|用)?")
_EDGE = " ,.!?~，。！？、～…啊呀吧呢哈的嘛哦"
# 给我 that is not whom it is for: 给我回个电话, 给我说说
_TO_ME_NOT_FOR = re.compile(
    r"(?:回|打|发|说|讲|解释|通知|答复|联系|看|查|问|介绍|转|推荐|个回复|个电话|一个电话)"
)


def _said(norm: Normalized, start: int, end: int) -> str:
    """The original characters behind a span of the normalised text."""
    lo, hi = norm.to_original(start, end)
    return norm.original[lo:hi]


def _strip(text: str) -> str:
    return text.strip(_EDGE)


def _relation_counts(t: str, start: int, end: int) -> bool:
    """Whether the relative said at t[start:end] is a candidate for whom the request is for."""
    if start > 0 and t[start - 1] in "跟和同与" and _WITH_AFTER.match(t, end):
        return False  # 跟儿子一起住: whom the elder lives with
    if t[max(0, start - 1) : start] == "在" and t[end : end + 1] in ("家", "那"):
        return False  # 住在儿子家
    if t.endswith(_THIRD_PERSON_BEFORE, 0, start) or t.endswith(("我是", "我是老人的"), 0, start):
        return False  # 她儿子 / 我是她女儿: someone else's relative, or the writer
    if _GONE_AFTER.match(t, end) or _AWAY_AFTER.match(t, end):
        return False
    if (
        t.startswith(("他爸", "他妈", "她爸", "她妈", "他爹", "他娘"), end)
        or t[start - 1 : start] == "个"
    ):
        return False  # 孩子他爸: the writer's husband; 三个孩子: children counted
    named = start > 0 and t[start - 1] in _SURNAMES and not t.endswith("照顾", 0, start)
    if named and t[start:end] in _ADDRESS_TERMS:
        return False  # 王奶奶, 李大爷: a neighbour called by family name, not a relative
    return not t.startswith("家", end) or not t[start:end].endswith("娘")  # 娘家


def _self_at(t: str) -> Iterator[tuple[int, bool]]:
    """(position, strong) of each way the message says the request is for the writer."""
    for m in _SELF_WORDS.finditer(t):
        word, end = m.group(), m.end()
        if word == "本人" and (
            t[max(0, m.start() - 1) : m.start()] in ("需", "要", "须", "得", "让", "请")
            or t.startswith(("到场", "亲自", "来", "去", "带", "签", "持"), end)
        ):
            continue  # 需要本人带身份证: a rule, not whom it is for
        if t.startswith(("住", "过", "一个人"), end):
            continue  # 我自己住: the living situation
        strong = not word.startswith(("给我", "为我"))
        if not strong and (_TO_ME_NOT_FOR.match(t, end) or _RELATION.match(t, m.start() + 1)):
            continue
        yield m.start(), strong


def relation(text: str) -> str | None:
    """Who the request is for, as said (我爸, 老伴, 俺娘), or "self" (我自己, 本人, 给我)."""
    norm = normalize(text)
    t = norm.text
    kin = next((m for m in _RELATION.finditer(t) if _relation_counts(t, m.start(), m.end())), None)
    selves = list(_self_at(t))
    strong = next((pos for pos, is_strong in selves if is_strong), None)
    if kin is not None and (strong is None or kin.start() < strong):
        return _said(norm, kin.start(), kin.end())
    if selves:
        return SELF
    bare = _strip(t)
    if bare in _KIN:
        start = t.index(bare)
        return _said(norm, start, start + len(bare))
    if bare and _SELF_ONLY.fullmatch(bare):
        return SELF
    return None


# --- a person's name --------------------------------------------------------------------------

_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔汤常温康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿兰焦"
    "俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳管柴蒙鲍华喻祁蒲房"
    "滕屈饶牟艾尤穆卓吉缪项芦麦褚娄窦戚岑宫卜冷晏卫柏宗瞿佟臧闵苟邬卞姬仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩佘苑迟邝鞠荆冀郁胥栗燕楚鄢谌奚粟冼蔺阚帅屠朴廉禹祖漆狄晋芮扈晁"
    "雍辜裘亓邰赫杭逯茹慕嵇湛"
)
_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
)
# Characters that end a name: what follows a name in a run-on message, numbers, and the words
# that make 王师傅 / 张奶奶 / 马上 / 高血压 / 谢谢 a title or a word rather than a name.
_NOT_IN_NAME = frozenset(
    "的了是在住今年岁我你他她它们和跟也都就还又要想能会说叫吗呢吧啊呀哦嘛哈么不没家里人个"
    "这那前后电话手机身腿脚眼耳腰病院医师傅老先生女士阿姨姐哥叔婶伯爷奶妈爸儿孙同志主任书记"
    "经理已快将近一二三四五六七八九十百零两几多日周号楼栋室户区街路村镇点午上下血压糖谢"
    "0123456789"
)
_NAME_CUE = re.compile(r"(?:名字叫|名字是|姓名是|姓名|名字|名叫|叫做|叫)[:：是为 ]{0,2}")
_FAMILY_NAME = re.compile(r"姓(.)[,，:： 叫是]{0,3}")


def _name_at(t: str, pos: int) -> int | None:
    """The end of a name (family name and one or two given characters) starting at pos."""
    if t.startswith(_COMPOUND_SURNAMES, pos):
        given_from = pos + 2
    elif pos < len(t) and t[pos] in _SURNAMES:
        given_from = pos + 1
    else:
        return None
    end = given_from
    while end < len(t) and end - given_from < 2:
        ch = t[end]
        if not "\u4e00" <= ch <= "\u9fff" or ch in _NOT_IN_NAME or ch == t[pos]:
            break
        end += 1
    return end if end > given_from else None


def person_name(text: str) -> str | None:
    """A person's name given in the message (他叫王建华 / 我妈叫赵桂兰 / 姓李 李秀英 / 名字是…)."""
    norm = normalize(text)
    t = norm.text
    for m in _FAMILY_NAME.finditer(t):
        end = _name_at(t, m.end())
        if end is not None and t[m.end()] == m.group(1):
            return _said(norm, m.end(), end)
    for m in _NAME_CUE.finditer(t):
        end = _name_at(t, m.end())
        if end is not None:
            return _said(norm, m.end(), end)
    bare = _strip(t)
    if 2 <= len(bare) <= 4 and _name_at(bare, 0) == len(bare):
        start = t.index(bare)
        return _said(norm, start, start + len(bare))
    return None


# --- age --------------------------------------------------------------------------------------

_HANZI_NUMBER = "零〇一二两三四五六七八九十百"
_ELDER_AGES = range(40, 121)  # an age said without 岁
_AGES = range(0, 121)
_AGE_SUI = re.compile(
    rf"(?<![0-9.{_HANZI_NUMBER}])([0-9]{{1,3}}|[{_HANZI_NUMBER}]{{1,6}})(多|来|几)?(?:周岁|岁)"
    r"(?!以上|以下|及以上|及以下|以内|之前|之后|以前|以后|前|后|的时候|那年|时)"
)
_AGE_LE = re.compile(
    rf"(?<![0-9.{_HANZI_NUMBER}])([0-9]{{2,3}}|[{_HANZI_NUMBER}]{{2,6}})(多|来|出头|好几)?(?:了|啦)"
)
_AGE_CUE = re.compile(
    r"(?:今年|年纪|岁数|年龄|高龄|都|已经|快要|快|将近|接近|马上|眼看|奔)"
    r"(?:已经|都|有|是|就|快|也)?[:： ]?"
    rf"([0-9]{{2,3}}|[{_HANZI_NUMBER}]{{2,6}})(多|来|出头|好几)?"
    rf"(?![0-9{_HANZI_NUMBER}]|号|楼|栋|单元|室|点|年|月|日|天|个|次|块|元|斤|分|米|层|平|%|:|\.)"
)
_AGE_AFTER_PERSON = re.compile(
    rf"(?:(?:{_OWNER_RE})?(?:{_KIN_RE})|老人家?)(?:今年|也|都|已经|快)?[ ,，]?"
    rf"([0-9]{{2,3}}|[{_HANZI_NUMBER}]{{2,6}})(多|来|出头|好几)?"
    rf"(?![0-9{_HANZI_NUMBER}]|号|楼|栋|单元|室|点|年|月|日|天|个|次|块|元|斤|分|米|层|平|%|:|\.)"
)
_AGE_BEN = re.compile(rf"奔([六七八九])(?![0-9{_HANZI_NUMBER}])")
_AGE_ALONE = re.compile(rf"([0-9]{{2,3}}|[{_HANZI_NUMBER}]{{2,6}})(?:周岁|岁)?(?:了|啦)?")
_YEARS_CUE = ("今年", "年纪", "岁数", "年龄", "年龄是", "今年是")  # 我今年25: any age
_ALMOST = ("快要", "快", "将近", "接近", "马上", "马上就", "眼看", "眼看就", "奔", "快到", "不到")
_HANZI_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_TENS_RANGE = re.compile("([一二三四五六七八九])([一二三四五六七八九])十")
_UNITS_RANGE = re.compile("([一二三四五六七八九]?)十([一二三四五六七八九])[一二三四五六七八九]")


def _number(run: str) -> int | None:
    """The value of digits or a hanzi number; a range (七八十, 八十一二) gives its lower end."""
    if run.isdigit():
        return int(run)
    if m := _TENS_RANGE.fullmatch(run):
        return _HANZI_DIGITS[m.group(1)] * 10
    if m := _UNITS_RANGE.fullmatch(run):
        return _HANZI_DIGITS.get(m.group(1), 1) * 10 + _HANZI_DIGITS[m.group(2)]
    from cn2an import cn2an  # imported on first use, as nlu.normalize does

    try:
        return int(cn2an(run.replace("两", "二").replace("〇", "零"), "strict"))
    except Exception:  # cn2an raises ValueError, sometimes others, on malformed input
        return None


def _age_found(t: str) -> Iterator[tuple[int, int]]:
    """(position, age) of each age the text states."""
    for pattern, ages in (
        (_AGE_SUI, _AGES),
        (_AGE_LE, _ELDER_AGES),
        (_AGE_CUE, _ELDER_AGES),
        (_AGE_AFTER_PERSON, _AGES),
    ):
        for m in pattern.finditer(t):
            value = _number(m.group(1))
            if value is None:
                continue
            if t.endswith(_ALMOST, 0, m.start(1)):
                value -= 1
            if value in ages or (value in _AGES and t.endswith(_YEARS_CUE, 0, m.start(1))):
                yield m.start(1), value
    for m in _AGE_BEN.finditer(t):
        yield m.start(1), _HANZI_DIGITS[m.group(1)] * 10 - 1


def age(text: str) -> int | None:
    """An age (83岁, 八十三了, 今年82); 快九十了 is 89: almost N is N - 1 (module notes)."""
    t = normalize(text).text
    found = min(_age_found(t), default=None)
    if found is not None:
        return found[1]
    bare = _strip(t)
    m = _AGE_ALONE.fullmatch(bare)
    value = _number(m.group(1)) if m else None
    return value if value in _ELDER_AGES else None


# --- living situation -------------------------------------------------------------------------

_ALONE = re.compile(
    r"一个人(?:住|过(?!来|去|马路|不)|生活|居住|在家)|独居|孤寡|孤老"
    r"|独自(?:一人|生活|居住|住|在家|过(?!来|去|马路|不))"
    r"|单独(?:住|居住|生活)|自己(?:一个人)?(?:住|生活|过日子)"
    r"|家里(?:就|只有|只剩)(?:她|他|我|老人|老太太|老爷子)?一个人?"
    r"|只剩(?:她|他|我|老人)?一个人|孤身一人|身边没人"
    r"|(?:走了|去世了?|过世了?|没了|不在了)(?:以后|之后|后)?[,， ]?(?:就|现在|剩)?"
    r"(?:她|他|我|老人)?就?一个人"
)
_TOGETHER = re.compile(
    rf"(?:跟|和|同|与)着?(?:(?:{_OWNER_RE})?(?:{_KIN_RE})|我们|他们|孩子们|子女|儿女|家人|我|他|她)"
    r"(?:一起|一块儿?|一道|2个人|两个人|俩)?(?:住|过|生活)"
    rf"|住(?:在)?(?:(?:{_OWNER_RE})?(?:{_KIN_RE})|我们|我|他们)(?:家|那)"
    r"|老两口|两口子|老俩口|(?:2个人|两个人|俩人|一家人|一家子)住|一起住|同住|合住"
)
_NOT_BEFORE = ("不是", "没有", "并非", "并不是", "不", "没")
_BEFORE_NOW = re.compile(r"以前|原来|之前|过去|早先|年轻时|那时候")
_NOW = re.compile(r"现在|如今|目前|后来")
_PARTLY = ("白天", "平时白天", "上班时", "上班的时候", "有时", "有时候", "偶尔", "晚上")
_CLAUSE_END = re.compile(r"[,，。.!！?？;； ]")
# alone at home or with nobody near: what a day looks like, not whom the elder lives with, so
# it does not override 跟我弟住 (我妈跟我弟住 我弟白天上班 她一个人在家 → False)
_WEAK_ALONE = ("在家", "身边没人")


def _clause_start(t: str, pos: int) -> int:
    """Where the clause holding position pos starts (after the last punctuation or space)."""
    ends = [m.end() for m in _CLAUSE_END.finditer(t, max(0, pos - 12), pos)]
    return ends[-1] if ends else max(0, pos - 12)


def _living(t: str) -> Iterator[tuple[int, bool, bool]]:
    """(position, lives alone, weak) of each statement of the living situation."""
    for m in _ALONE.finditer(t):
        word, end = m.group(), m.end()
        if word.endswith("住") and t.startswith("院", end):
            continue  # 一个人住院
        if word.endswith("住") and t.startswith("的", end) and not _ends_clause(t, end + 1):
            continue  # 自己住的房子
        if word.endswith("在家") and t.endswith(_PARTLY, 0, m.start()):
            continue  # 白天一个人在家
        negated = t.endswith(_NOT_BEFORE, 0, m.start())
        yield m.start(), not negated, word.endswith(_WEAK_ALONE)
    for m in _TOGETHER.finditer(t):
        yield m.start(), False, False


def lives_alone(text: str) -> bool | None:
    """Whether the elder lives alone: 独居 / 一个人住 True, 跟我们住 False, None if unsaid."""
    t = normalize(text).text
    said = sorted(_living(t))
    current = [
        (alone, weak)
        for pos, alone, weak in said
        if not (
            _BEFORE_NOW.search(t, _clause_start(t, pos), pos)
            and not _NOW.search(t, _clause_start(t, pos), pos)
        )
    ]
    if any(not alone for alone, _ in current):
        current = [(alone, weak) for alone, weak in current if not weak]
    return current[-1][0] if current else None


# --- phone ------------------------------------------------------------------------------------

_NOT_DIGITS_AROUND = ("(?<![0-9])", "(?![0-9])")
# 0431 8520 1234: a landline in three groups (storage.privacy reads two: 0431-85201234)
_LANDLINE_GROUPED = re.compile(
    f"{_NOT_DIGITS_AROUND[0]}(0[1-9][0-9]{{1,2}})[ -]{{1,3}}([0-9]{{3,4}})[ -]{{1,3}}"
    f"([0-9]{{4}}){_NOT_DIGITS_AROUND[1]}"
)
# a number without its area code, only where the message says it is a phone
_LOCAL = re.compile(r"(?:电话|座机|固话|号码)(?:号码|号)?[是为: ]{0,3}([2-9][0-9]{6,7})(?![0-9])")
_BRACKETS = str.maketrans("()（）", "    ")
_HANZI_DIGIT_RUN = re.compile("[零〇幺一二三四五六七八九]{7,12}")
_HANZI_DIGIT_VALUES = str.maketrans("零〇幺一二三四五六七八九", "001123456789")


def _phones(t: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, number) of each phone number in normalised text."""
    view = _HANZI_DIGIT_RUN.sub(lambda m: m.group().translate(_HANZI_DIGIT_VALUES), t)
    view = view.translate(_BRACKETS)  # (0431)85201234: same length, so positions hold
    long_numbers = [(m.start(), m.end()) for m in privacy._LONG_NUMBER.finditer(view)]

    def inside_long(start: int) -> bool:
        return any(lo <= start < hi for lo, hi in long_numbers)

    for m in privacy._MOBILE.finditer(view):
        if not inside_long(m.start()):
            yield m.start(), m.end(), "".join(m.groups())
    for pattern in (privacy._LANDLINE, _LANDLINE_GROUPED):
        for m in pattern.finditer(view):
            if not inside_long(m.start()):
                yield m.start(), m.end(), f"{m.group(1)}-{m.group(2)}{m.group(3)}"
    for m in _LOCAL.finditer(view):
        yield m.start(1), m.end(1), m.group(1)


def phone(text: str) -> str | None:
    """A mainland mobile or landline number (with spaces, dashes, +86, full-width digits)."""
    found = min(_phones(normalize(text).text), default=None)
    return found[2] if found else None


# --- ticket, booking, order and wish numbers --------------------------------------------------

_PREFIXED_NUMBER = re.compile(r"(?<![A-Za-z0-9])([YJXyjx]) ?([0-9]{4,6})(?![0-9])")
_CITED_NUMBER = re.compile(
    r"(?:工单|单号|编号|预约号|订单号|心愿号|号码|单子|查询|查|#)号?[是为: ]{0,2}"
    r"([0-9]{4,6})(?![0-9])"
)
_BARE_NUMBER = re.compile(
    r"(?<![0-9A-Za-z.:/-])([0-9]{4,6})"
    r"(?![0-9.:/-]|多|余|号|楼|栋|幢|单元|室|户|层|年|月|日|元|块|岁|斤|米|平|次|个|点|分|毛|天"
    r"|小时|%|万|千|百)"
)
_ROOM_BEFORE = ("单元", "楼", "栋", "幢", "号", "室", "门牌", "房", "住", "电话", "手机", "座机")


def ticket_number(text: str) -> str | None:
    """A ticket/booking/order/wish number the resident cites (1021, Y1008, J1003, X1002)."""
    t = normalize(text).text
    taken = [(start, end) for start, end, _ in _phones(t)]
    taken += [(m.start(), m.end()) for m in privacy._LONG_NUMBER.finditer(t)]

    def free(start: int) -> bool:
        return not any(lo <= start < hi for lo, hi in taken)

    for m in _PREFIXED_NUMBER.finditer(t):
        if free(m.start(2)):
            return m.group(1).upper() + m.group(2)
    for m in _CITED_NUMBER.finditer(t):
        if free(m.start(1)):
            return m.group(1)
    for m in _BARE_NUMBER.finditer(t):
        if free(m.start(1)) and not t.endswith(_ROOM_BEFORE, 0, m.start(1)):
            return m.group(1)
    return None


# --- deadline ---------------------------------------------------------------------------------

_SOON = "(?:下下|下个|下|这个|这|本)?"
_WEEKDAY = f"{_SOON}(?:周|星期|礼拜)[一二三四五六日天1-7]"
_MONTH = (
    "(?:(?:这个|下个|这|下|本|[0-9]{1,2})月份?(?:底|末|初|中旬|上旬|下旬|中|[0-9]{1,2}[号日])?"
    "|月(?:底|末|初|中旬|中))"
)
_YEAR_END = "(?:今年|明年|(?<![0-9零一二两三四五六七八九十几多去年]))年(?:底|末|内|前)"
_FESTIVAL = (
    "过年|春节|元旦|元宵节?|端午节?|中秋节?|国庆节?|六一|儿童节|重阳节?|清明节?|五一|劳动节"
    "|七夕|冬至|腊八|小年|年三十|除夕|过节|十一(?=之前|以前|前)"
)
# events that are a deadline only with 前 (孩子开学前; 孩子考试考好了 is no deadline)
_EVENT = "开学|放假|放寒假|放暑假|寒假|暑假|生日|期末|考试|入冬|冬天|天冷"
_RELATIVE_DAY = (
    "大后天|后天|明天|这周末|下周末|周末|下下周|这周|本周|下周|这礼拜|下礼拜|这星期|下星期"
    "|年内|近期|尽快|越快越好|越早越好|早日"
)
_DAY_OF_MONTH = "[0-9]{1,2}[号日](?!楼|院|线|门|床|车|口|位|房|机|窗|单元)"
_WITHIN = (
    "(?:一两|两三|三四|三五|十几|[0-9]{1,3}|一|两|半|几)个?(?:天|周|星期|礼拜|月)(?:之内|以内|内)"
)
_BY = "(?:之前|以前|前|为止|以内|之内|内|的时候)"
_DEADLINE = re.compile(
    f"{_WITHIN}"
    f"|(?:{_WEEKDAY}|{_MONTH}|{_YEAR_END}|{_FESTIVAL}|{_RELATIVE_DAY}|{_DAY_OF_MONTH}){_BY}?"
    f"|(?:{_EVENT}){_BY}"
)
_RANGE_AFTER = re.compile(r"[到至~-]|和|或")


def deadline(text: str) -> str | None:
    """When a micro-wish is wanted by, as said (月底前 / 下周五之前 / 过年前), never a yes word."""
    norm = normalize(text)
    t = norm.text
    range_end = -1
    for m in _DEADLINE.finditer(t):
        if _RANGE_AFTER.match(t, m.end()):
            range_end = m.end() + 1  # 周一到周五都在家: when someone is in, not a deadline
        elif m.start() > range_end:
            return _said(norm, m.start(), m.end())
    return None


# --- questions --------------------------------------------------------------------------------

_QUESTION_MARK = re.compile(r"[?？]")
_MA = re.compile(r"吗|(?<![什怎这那多要])么(?=$|[ ,，。.!！~…啊呀])")
_A_NOT_A = re.compile("([\u4e00-\u9fff])[不没]\\1")  # literal CJK range: PCRE2 has no \\u
_NOT_AT_END = re.compile(r"(?:没有|不|没)(?:呢|啊|呀)?(?=$|[ ,，。.!！~?？])")
_STATEMENT_BEFORE_NOT = frozenset("先还就也都我他她并决绝可本来从再")
_ASKING = re.compile(
    "什么时候|甚么时候|啥时候|什么时间|啥时间|什么地方|啥地方|为什么|甚么|为啥|为何|什么|啥|咋|怎么|怎样|如何|哪儿|哪里|哪个|哪天|哪|多少|多久|多长时间|多大"
    "|多远|多会儿|几点|几号|几天|几个|几时|几岁|几楼|几次|几位|几月|第几|谁|干嘛|干吗|请问|是否"
    "|能否|可否|有无|想问|问一下|问下|问个|打听|咨询|请教"
)
_INDEFINITE_AFTER = frozenset("都也怕")  # 什么都行, 谁也不, 哪怕
_NEGATED_ASKING = ("什么", "甚么", "啥", "多少", "多久", "多大", "怎么", "几")
_FEW_BEFORE = frozenset("好过这那前头十没")  # 好几天, 过几天, 前几天, 十几年
_WHEN = re.compile(
    "什么时候|甚么时候|啥时候|什么时间|啥时间|啥时|几时|何时|哪一天|哪天|多会儿|多咱|几号"
)
_HOW_LONG = re.compile(
    "多久|多长时间|多长时候|多少时间|多少天|几天|几个小时|几个钟头|多少小时|几个月|几个工作日"
    "|多少个工作日"
)
_CLOCK_WHEN = re.compile(r"几点钟?[^ ,，。.!！?？]{0,4}?(?:来|到|上门|派|修|弄|能|过来)")
_HOURS_AFTER = re.compile(r"[^ ,，。.!！?？]{0,4}?(?:开门|关门|营业|上班|下班|开放|休息|放假)")
_PAST_BEFORE = ("上次", "上回", "当时", "那是")


def _asks_when(t: str) -> bool:
    for m in _WHEN.finditer(t):
        after = t[m.end() : m.end() + 1]
        if after in _INDEFINITE_AFTER or (m.group() == "几号" and after in "楼门线床窗"):
            continue
        if _HOURS_AFTER.match(t, m.end()) or t.endswith(_PAST_BEFORE, 0, m.start()):
            continue  # 啥时候开门: opening hours; 上次什么时候修的: the past
        return True
    for m in _HOW_LONG.finditer(t):
        if m.start() > 0 and t[m.start() - 1] in _FEW_BEFORE | {"不"}:
            continue  # 没多久, 好几天, 过几天
        if t.startswith("了", m.end()) and _ends_clause(t, m.end() + 1):
            continue  # 坏了多久了: how long it has been
        return True
    return bool(_CLOCK_WHEN.search(t))


def _ends_clause(t: str, pos: int) -> bool:
    return pos >= len(t) or bool(_CLAUSE_END.match(t, pos))


def _asking_word(t: str, m: re.Match[str]) -> bool:
    """Whether a question word asks (啥时候能修) rather than says any or none (啥都行, 没啥事)."""
    word, start, end = m.group(), m.start(), m.end()
    before = t[start - 1] if start > 0 else ""
    if t[end : end + 1] in _INDEFINITE_AFTER:
        return False
    if word.startswith(_NEGATED_ASKING) and (
        before in ("没", "不") or t.endswith("没有", 0, start)
    ):
        return False
    if word.startswith("几") and before in _FEW_BEFORE:
        return False
    if word in ("什么", "甚么", "啥") and t.startswith("的", end) and _ends_clause(t, end + 1):
        return before in ("干", "是", "做")  # 做饭啥的: "and so on"; 干什么的 asks
    return not (word == "多少" and t[end : end + 1] in ("有", "也", "都"))


def is_question(text: str) -> bool:
    """True when the message asks something (要交钱不？/ 周末开不开 / 啥时候能修 / 多久 / 咋办)."""
    t = normalize(text).text
    if _QUESTION_MARK.search(t) or _MA.search(t) or _asks_when(t):
        return True
    if any(m.group(1) != "动" for m in _A_NOT_A.finditer(t)):  # 动不动就: "all the time"
        return True
    for m in _NOT_AT_END.finditer(t):
        if m.start() > 0 and t[m.start() - 1] not in _STATEMENT_BEFORE_NOT | {" "}:
            return True  # 要交钱不, 修好了没
    if _EITHER_OR.search(t):
        return True  # 是社区来修还是市政来修啊
    return any(_asking_word(t, m) for m in _ASKING.finditer(t))


# "A or B?" ending in a question particle
_EITHER_OR = re.compile(r"[^，,。]{2}还是[^，,。]{2,20}[啊呀呢]$")


def asks_when(text: str) -> bool:
    """True when it asks how long or when a thing will be done (多久, 啥时候能修好, 哪天来人)."""
    return _asks_when(normalize(text).text)
