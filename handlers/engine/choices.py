"""Which offered option a free answer names: numbered choices are a shortcut, never the only way.

An answer may give the option's number when the options were shown numbered (1, 第二个, 就1吧,
选3), or name the option: all or part of its name (铁指江南那个, 吉康之家东关的), an alias, a
word of its address or neighbourhood (北街那个), a time when the option names hold times (十点那场,
下午那个, 周四的, 3号下午), a person by relation or surname (我妈, 老太太, 老钱, 孙老师) when the
options are people, and a word said against one (不是东关, 上午起不来) rules that one out.

How an answer is weighed, per option (the text is normalised first: traditional characters,
full-width digits, hanzi numbers; and cut to ``MAX_CHARS``):

* words in common: every run of 2–8 characters of the answer that is in the option's name or
  an alias counts 1 per character, in a hint 0.7 (a run every option has, 吉康之家, fits them all
  equally). Service words that name no place (康复, 训练, 服务, 党群, 社区, 小区, 中心) and the
  answer's time words are left out of this, and 个 is skipped (洗个澡 = 洗澡).
  Runs that sound the same (pypinyin, zh/z, ch/c, sh/s and -ng/-n folded: 东官 = 东关, 赵贵兰 =
  赵桂兰, as voice-to-text writes them) count 0.8 of that. A whole name, alias or hint segment
  said adds 2.
* times (nlu.timeparse.time_words on the answer and on each option's name): for each of weekday,
  date, part of the day and clock time the answer gives, the options whose name holds one that
  fits get 3 and those whose name holds one that does not are ruled out. With ``now`` (the
  message time), 明天 / 后天 / 下周四 are dates too.
* people: the relation said (我妈 → 母亲, 老太太 → a mother or grandmother, 我自己 → 本人) fits
  options whose name or alias is that relation (4; others with a relation are ruled out); a
  surname with a title (老钱, 赵阿姨, 孙老师) fits options whose person name has it (3).

The options left with the highest positive score are the answer: one is the match, several
are candidates; so are two options each named in words of its own (做个饭 洗个澡). With no
positive score, options ruled out leave the rest (不是东关的那个 → the other station). The work
is a few dictionary look-ups per character of the (cut) answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from nlu.normalize import normalize
from nlu.timeparse import TimeWord, negated, resolve_time, time_words

MAX_RAW = 400  # characters of the message read at all
MAX_CHARS = 200  # characters of the normalised answer weighed
MIN_GRAM, MAX_GRAM = 2, 8
NAME, HINT, SOUND = 1.0, 0.7, 0.8
WHOLE, TIME_FIT, RELATION_FIT, SURNAME_FIT = 2.0, 3.0, 4.0, 3.0
GENERIC = ("康复", "训练", "服务", "党群", "社区", "小区", "中心", "活动", "那个", "这个")

_GAP = "\x00"  # stands for a character that is not compared (a time word, a generic word)
_SPACE = " "
_SKIPPED = "个"  # 洗个澡, 理个发, 做个饭: the measure word between verb and object

RELATIONS: dict[str, tuple[str, ...]] = {
    "母亲": ("母亲", "妈", "妈妈", "老妈", "我妈", "俺妈", "咱妈", "娘", "老娘", "我娘"),
    "父亲": ("父亲", "爸", "爸爸", "老爸", "我爸", "俺爸", "咱爸", "爹", "老爹"),
    "配偶": ("配偶", "老伴", "老伴儿", "老公", "媳妇", "爱人", "老婆", "丈夫", "妻子", "对象"),
    "祖母": ("祖母", "奶奶", "姥姥", "外婆", "外祖母"),
    "祖父": ("祖父", "爷爷", "姥爷", "外公", "外祖父"),
    "本人": ("本人", "自己", "我自己", "我本人"),
}
# words for an older person that say only whether it is a woman or a man
_WOMAN = ("老太太", "老太", "老奶奶", "老婆婆", "大娘", "大妈")
_MAN = ("老爷子", "老头", "老头儿", "老大爷", "老爷爷", "大爷")
# words holding a relation word that are not one (姑妈 is an aunt, 姑娘 a girl)
_NOT_RELATIONS = ("姑妈", "姨妈", "舅妈", "婆婆", "姑娘", "新娘", "大娘家")
_RELATION_OF: dict[str, frozenset[str]] = {
    **{word: frozenset({name}) for name, words in RELATIONS.items() for word in words},
    **{word: frozenset({"母亲", "祖母"}) for word in _WOMAN},
    **{word: frozenset({"父亲", "祖父"}) for word in _MAN},
    **{word: frozenset() for word in _NOT_RELATIONS},
    **{word: frozenset({"母亲", "父亲"}) for word in ("爸妈", "父母", "爹妈", "爹娘")},
}
_RELATION_RE = re.compile("|".join(sorted(_RELATION_OF, key=len, reverse=True)))
_SELF_ANSWERS = frozenset({"我", "给我", "是我", "我的", "就我", "我啊", "我呀"})
SURNAMES = (  # common surnames, less those that after 老 are mostly other words (老师, 老党员)
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔汤常施牛樊葛邢乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚"
    "符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆农司"
    "卓吉缪简项芦麦褚娄窦戚岑景宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬卞姬仇栾隋刁沙荣巫寇桑郎甄丛"
    "仲虞敖巩佘池查苑迟邝"
)
_TITLES = "阿姨|姨|大爷|大妈|大娘|奶奶|爷爷|老师|师傅|叔叔|叔|婶|大姐|大哥|老太太|老爷子|大夫|医生"
_SURNAME_RE = re.compile(rf"老([{SURNAMES}])|([{SURNAMES}])(?:{_TITLES})")
_HANZI = "\u4e00-\u9fff"  # the characters themselves, not escapes: PCRE2 reads these too
_TEACHER_RE = re.compile(rf"([{SURNAMES}])[{_HANZI}]{{1,2}}(?:老师|医生|大夫)")
_PERSON_NAME_RE = re.compile(rf"[{SURNAMES}][{_HANZI}]{{1,2}}")
_DIGITS_RE = re.compile(r"\d{1,12}")
_PUNCT_RE = re.compile(rf"[^\w{_HANZI}]|_")
_GENERIC_RE = re.compile("|".join(GENERIC))
# numbered answers: fillers around the number are taken off one at a time, longest first
_LEADING = (
    "那就",
    "就选",
    "就要",
    "我选",
    "我要",
    "还是",
    "好的",
    "就",
    "那",
    "嗯",
    "好",
    "行",
    "要",
    "对",
)
_TRAILING = (
    *("就行了", "就可以", "就行", "就好", "好了", "可以", "谢谢", "麻烦了", "那个", "那场"),
    *("那家", "那位", "这个", "吧", "啊", "呀", "呢", "嘛", "哈", "哦", "的", "了", "行"),
)
_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", 1)} | {"两": 2}
_CHOICE_RE = re.compile(
    r"(第|选择|选)?(\d{1,2}|[一二两三四五六七八九十])(个|项|号|条|场|家|位|种)?"
)
_ORDINAL_RE = re.compile(
    r"第(\d{1,2}|[一二两三四五六七八九十])(?:个|项|场|条|家|位|种)"
    r"|选第?(\d{1,2}|[一二两三四五六七八九十])(?![\d点:时号月日天周楼个])"
)
_LAST_RE = re.compile(r"最后(?:一个|那个|一项|一场|一家|一位)")
_MAX_CHOICE_TEXT = 24
_T = TypeVar("_T")


@dataclass(frozen=True)
class Option:
    """One offered choice: what the flow stores, how it is shown, and other words for it."""

    key: str  # what the flow stores (an id as text)
    name: str  # how the bot shows it (东关社区吉康之家)
    aliases: tuple[str, ...] = ()  # other names (东关那个站, 东关)
    hints: tuple[str, ...] = ()  # neighbourhood/address words that point at it (东关北街)


@dataclass(frozen=True)
class Match:
    """The option an answer names, or, when several fit equally, those candidates."""

    option: Option | None  # the single best option, or None
    candidates: tuple[Option, ...] = ()  # when ambiguous: the options that fit equally


@dataclass(frozen=True)
class _View:
    """What an option offers to be matched on, computed once per option."""

    grams: dict[str, float]
    sounds: dict[tuple[str, ...], float]
    phrases: tuple[str, ...]
    weekdays: frozenset[int]
    dates: frozenset[tuple[int, int]]
    hour: tuple[int, int] | None
    part: tuple[int, int] | None
    relations: frozenset[str]
    surnames: frozenset[str]


@dataclass
class _Answer:
    """The answer as compared: normalised text, the comparable string and where each came from."""

    said: str
    words: list[TimeWord]
    variants: list[tuple[str, list[int]]]  # comparable strings with their positions in said


def choice_number(text: str) -> int | None:
    """The number of a numbered answer (1, １, 第二个, 选3, 2号, 二, 第一个吧, 就1) or None."""
    if not text or len(text) > MAX_RAW:
        return None
    said = normalize(text[:MAX_RAW]).text
    bare = _PUNCT_RE.sub("", said)
    if len(bare) <= _MAX_CHOICE_TEXT:
        core = _strip_fillers(bare)
        m = _CHOICE_RE.fullmatch(core)
        if m is not None and not (m.group(2) == "一" and m.group(3) == "个" and m.group(1) != "第"):
            return _number(m.group(2))  # 一个 / 选一个 is "one of them", not the first
    m = _ORDINAL_RE.search(bare[:MAX_CHARS])
    return _number(m.group(1) or m.group(2)) if m else None


def _strip_fillers(bare: str) -> str:
    changed = True
    while changed and bare:
        changed = False
        for word in _LEADING:
            if bare.startswith(word) and len(bare) > len(word):
                bare, changed = bare[len(word) :], True
                break
        for word in _TRAILING:
            if bare.endswith(word) and len(bare) > len(word):
                bare, changed = bare[: -len(word)], True
                break
    return bare


def _number(said: str) -> int | None:
    value = int(said) if said.isdigit() else _NUMERALS[said]
    return value or None


def match_option(
    text: str, options: Sequence[Option], *, numbered: bool = True, now: datetime | None = None
) -> Match:
    """Which offered option a free answer names: its number, name, part of name, alias or hint.

    ``numbered``: the options were shown with numbers, so a number alone picks one. ``now``
    (the message time, optional) lets 明天 / 下周四 pick options whose names hold their dates.
    """
    offered = tuple(options)
    if not offered or not text or not text.strip():
        return Match(None)
    views = [_view_of(o) for o in offered]
    if numbered:
        number = choice_number(text)
        if number is not None and 1 <= number <= len(offered):
            if not _is_a_date(text, number, views):
                return Match(offered[number - 1])
        if _LAST_RE.search(text[:MAX_RAW]):
            return Match(offered[-1])
    answer = _answer(text)
    if not answer.said:
        return Match(None)
    scores = [0.0] * len(offered)
    ruled_out: set[int] = set()
    cover = _weigh_words(answer, views, scores, ruled_out)
    _weigh_times(answer, views, scores, ruled_out, now)
    _weigh_people(answer, views, scores, ruled_out)
    left = [i for i in range(len(offered)) if i not in ruled_out]
    named = _each_named(left, cover)
    if len(named) > 1:  # 做个饭 洗个澡: two options named in words of their own
        return Match(None, tuple(offered[i] for i in named))
    best = max((scores[i] for i in left), default=0.0)
    if best > 0:
        top = [i for i in left if scores[i] >= best - 1e-9]
    elif ruled_out and left:
        top = left
    else:
        return Match(None)
    if len(top) == 1:
        return Match(offered[top[0]])
    return Match(None, tuple(offered[i] for i in top))


# ---------------------------------------------------------------- the answer


def _answer(text: str) -> _Answer:
    raw = text[:MAX_RAW]
    said = normalize(raw).text[:MAX_CHARS]
    words = [w for w in time_words(raw) if w.end <= len(said)]
    chars = list(said.lower())
    for i, ch in enumerate(chars):
        if _PUNCT_RE.fullmatch(ch):
            chars[i] = _SPACE
    for w in words:
        chars[w.start : w.end] = _GAP * (w.end - w.start)
    for m in _GENERIC_RE.finditer(said):
        chars[m.start() : m.end()] = _GAP * (m.end() - m.start())
    compared, where = _comparable("".join(chars))
    skipped = [(c, p) for c, p in zip(compared, where, strict=True) if c != _SKIPPED]
    variants = [(compared, where)]
    if len(skipped) < len(compared):
        variants.append(("".join(c for c, _ in skipped), [p for _, p in skipped]))
    return _Answer(said=said, words=words, variants=variants)


def _comparable(text: str) -> tuple[str, list[int]]:
    """The text with each number as one character (3号楼 ≠ 13号楼), and where each came from."""
    out: list[str] = []
    where: list[int] = []
    pos = 0
    for m in _DIGITS_RE.finditer(text):
        out.extend(text[pos : m.start()])
        where.extend(range(pos, m.start()))
        out.append(chr(0xF0000 + int(m.group()) % 0xFFFD))
        where.append(m.start())
        pos = m.end()
    out.extend(text[pos:])
    where.extend(range(pos, len(text)))
    return "".join(out), where


def _is_a_date(text: str, number: int, views: list[_View]) -> bool:
    """1号 to a list of sessions on dates: the 1st of the month, when an option is on it."""
    dates = [w for w in time_words(text[:MAX_RAW]) if w.kind == "date" and not w.negated]
    return any(
        w.value[1] == number and any(d[1] == number for d in v.dates) for w in dates for v in views
    )


# ---------------------------------------------------------------- an option


def _view_of(option: Option) -> _View:
    """The option's view, cached unless the option was built with lists (unhashable)."""
    try:
        return _view(option)
    except TypeError:
        return _view.__wrapped__(option)


@lru_cache(maxsize=1024)
def _view(option: Option) -> _View:
    names = [_phrase(option.name), *(_phrase(a) for a in option.aliases)]
    hints = [_phrase(h) for h in option.hints]
    grams: dict[str, float] = {}
    sounds: dict[tuple[str, ...], float] = {}
    for weight, phrases in ((HINT, hints), (NAME, names)):
        for phrase in phrases:
            compared, _ = _comparable(phrase)
            heard = _sounds(compared)
            for i in range(len(compared)):
                for j in range(i + MIN_GRAM, min(len(compared), i + MAX_GRAM) + 1):
                    grams[compared[i:j]] = weight
                    sounds[heard[i:j]] = weight * SOUND
    whole = tuple(dict.fromkeys(part for p in (*names, *hints) for part in _segments(p)))
    words = time_words(option.name)
    clocks = [w for w in words if w.kind == "clock"]
    parts = [w for w in words if w.kind == "part"]
    hour = clocks[0].value if clocks else None
    if hour is not None and not parts and 1 <= hour[0] <= 6:
        hour = (hour[0] + 12, hour[1])  # 4点半课堂: an hour 1-6 with no part of the day is p.m.
    relations: set[str] = set()
    for said in (option.name, *option.aliases):
        for m in _RELATION_RE.finditer(normalize(said).text):
            relations |= _RELATION_OF[m.group()]
    return _View(
        grams=grams,
        sounds=sounds,
        phrases=whole,
        weekdays=frozenset(d for w in words if w.kind == "weekday" for d in w.value),
        dates=frozenset((w.value[0], w.value[1]) for w in words if w.kind == "date"),
        hour=(hour[0], hour[1]) if hour else None,
        part=(parts[0].value[0], parts[0].value[1]) if parts and not clocks else None,
        relations=frozenset(relations),
        surnames=_surnames(option),
    )


def _segments(phrase: str) -> list[str]:
    """The parts of a phrase said whole for a bonus: not its time words, not bare numbers."""
    chars = list(phrase)
    for w in time_words(phrase):
        chars[w.start : w.end] = _SPACE * (w.end - w.start)
    parts = "".join(chars).split(_SPACE)
    return [p for p in parts if len(p) >= MIN_GRAM and not p.isdigit()]


def _phrase(text: str) -> str:
    said = normalize(text[:MAX_RAW]).text.lower()
    return _PUNCT_RE.sub(_SPACE, said)


def _surnames(option: Option) -> frozenset[str]:
    found = set()
    for said in (option.name, *option.aliases):
        text = normalize(said).text
        if _PERSON_NAME_RE.fullmatch(text):
            found.add(text[0])
        found.update(m.group(1) for m in _TEACHER_RE.finditer(text))
    return frozenset(found)


@lru_cache(maxsize=4096)
def _sound(ch: str) -> str:
    """How a character sounds, without tones and with the sounds voice-to-text mixes up folded."""
    if not "\u4e00" <= ch <= "\u9fff":
        return ch
    from pypinyin import lazy_pinyin  # loaded on first use (~0.15 s)

    syllable = str(lazy_pinyin(ch)[0])
    for hard, soft in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if syllable.startswith(hard):
            syllable = soft + syllable[2:]
    return syllable[:-1] if syllable.endswith("ng") else syllable


def _sounds(text: str) -> tuple[str, ...]:
    return tuple(_sound(ch) for ch in text)


# ---------------------------------------------------------------- weighing


def _each_named(left: list[int], cover: list[dict[int, float]]) -> list[int]:
    """The options left that words of the answer name and name no other option left."""
    named = []
    for k in left:
        others = {pos for j in left if j != k for pos in cover[j]}
        if sum(1 for pos in cover[k] if pos not in others) >= MIN_GRAM:
            named.append(k)
    return named


def _weigh_words(
    answer: _Answer, views: list[_View], scores: list[float], ruled_out: set[int]
) -> list[dict[int, float]]:
    """Runs of the answer in the options' names, aliases and hints, by letters and by sound.

    Gives, per option, the characters of the answer (positions in ``answer.said``) it covers.
    """
    cover = [dict[int, float]() for _ in views]
    for compared, where in answer.variants:
        heard = _sounds(compared)
        for i in range(len(compared)):
            for j in range(i + MIN_GRAM, min(len(compared), i + MAX_GRAM) + 1):
                if compared[j - 1] in (_GAP, _SPACE):
                    break
                gram, sound = compared[i:j], heard[i:j]
                fits = {}
                for k, view in enumerate(views):
                    weight = view.grams.get(gram) or view.sounds.get(sound)
                    if weight:
                        fits[k] = weight
                if not fits:
                    continue
                start, end = where[i], where[j - 1] + 1
                against = negated(answer.said, start, end)
                for k, weight in fits.items():
                    if against:
                        ruled_out.add(k)
                        continue
                    for pos in range(start, end):
                        cover[k][pos] = max(cover[k].get(pos, 0.0), weight)
    for k, view in enumerate(views):
        scores[k] += sum(cover[k].values())
        for phrase in view.phrases:
            at = answer.said.lower().find(phrase)
            if at >= 0:
                if negated(answer.said, at, at + len(phrase)):
                    ruled_out.add(k)
                else:
                    scores[k] += WHOLE
    return cover


def _weigh_times(
    answer: _Answer,
    views: list[_View],
    scores: list[float],
    ruled_out: set[int],
    now: datetime | None,
) -> None:
    """Weekdays, dates, parts of the day and clock times said, against those in option names."""
    weekdays: list[tuple[frozenset[int], bool]] = []
    dates: list[tuple[frozenset[tuple[int, int]], bool]] = []
    parts: list[tuple[tuple[int, int], bool]] = []
    clocks: list[tuple[tuple[int, int], bool]] = []
    for w in answer.words:
        relative = w.kind == "day" or (w.kind == "weekday" and w.text[0] in "下这本上")
        if relative and now is not None:
            days = _days(w.text, now)
            if days:
                dates.append((frozenset((d.month, d.day) for d in days), w.negated))
                continue
        if w.kind == "weekday":
            weekdays.append((frozenset(w.value), w.negated))
        elif w.kind == "date":
            dates.append((frozenset({(w.value[0], w.value[1])}), w.negated))
        elif w.kind == "part":
            parts.append(((w.value[0], w.value[1]), w.negated))
        elif w.kind == "clock":
            clocks.append(((w.value[0], w.value[1]), w.negated))

    def on_weekday(view: _View, said: frozenset[int]) -> bool | None:
        return bool(view.weekdays & said) if view.weekdays else None

    def on_date(view: _View, said: frozenset[tuple[int, int]]) -> bool | None:
        if not view.dates:
            return None
        return any(d == s or (s[0] == 0 and d[1] == s[1]) for d in view.dates for s in said)

    def in_part(view: _View, said: tuple[int, int]) -> bool | None:
        if view.hour is not None:
            return said[0] <= view.hour[0] < said[1]
        if view.part is not None:
            return view.part[0] < said[1] and said[0] < view.part[1]
        return None

    def at_clock(view: _View, said: tuple[int, int]) -> bool | None:
        if view.hour is None:
            return None
        hour, minute = view.hour
        if said[0] >= 12:
            return (hour, minute) == said
        return minute == said[1] and hour in (said[0], said[0] + 12)

    _weigh_dimension(views, scores, ruled_out, weekdays, on_weekday)
    _weigh_dimension(views, scores, ruled_out, dates, on_date)
    _weigh_dimension(views, scores, ruled_out, parts, in_part)
    _weigh_dimension(views, scores, ruled_out, clocks, at_clock)


def _days(text: str, now: datetime) -> list[date]:
    span = resolve_time(text, now)
    if span is None or span.end - span.start > timedelta(days=7):
        return []
    first, last = span.start.date(), (span.end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _weigh_dimension(
    views: list[_View],
    scores: list[float],
    ruled_out: set[int],
    said: list[tuple[_T, bool]],
    fits: Callable[[_View, _T], bool | None],
) -> None:
    """One kind of time said: fitting options gain, options that hold another are ruled out.

    ``fits`` tells whether an option's time fits a value said, or None when it holds none.
    """
    if not said:
        return
    wanted = [value for value, against in said if not against]
    unwanted = [value for value, against in said if against]
    for k, view in enumerate(views):
        yes = [fits(view, value) for value in wanted]
        no = [fits(view, value) for value in unwanted]
        if any(result is True for result in no):
            ruled_out.add(k)
        if not wanted or all(result is None for result in yes):
            continue
        if any(yes):
            scores[k] += TIME_FIT
        else:
            ruled_out.add(k)


def _weigh_people(
    answer: _Answer, views: list[_View], scores: list[float], ruled_out: set[int]
) -> None:
    """A relation (我妈, 老太太, 我自己) or a surname with a title (老钱, 孙老师)."""
    said = answer.said
    wanted: set[str] = set()
    unwanted: set[str] = set()
    for m in _RELATION_RE.finditer(said):
        relation = _RELATION_OF[m.group()]
        (unwanted if negated(said, m.start(), m.end()) else wanted).update(relation)
    if _PUNCT_RE.sub("", said) in _SELF_ANSWERS:
        wanted.add("本人")
    surnames = {
        m.group(1) or m.group(2)
        for m in _SURNAME_RE.finditer(said)
        if not negated(said, m.start(), m.end())
    }
    for k, view in enumerate(views):
        if view.relations & unwanted:
            ruled_out.add(k)
        if wanted and view.relations:
            if view.relations & wanted:
                scores[k] += RELATION_FIT
            else:
                ruled_out.add(k)
        if view.surnames & surnames:
            scores[k] += SURNAME_FIT
