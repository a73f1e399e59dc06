"""How a message answers the bot's question: yes, no, withdraw, correction, or none (rule 4).

A yes is a yes whatever follows it (对对 谢谢啊, 嗯 那就这么着, 是 都一礼拜了), unless the
same message withdraws (好吧 那先不弄了) or corrects (不对 是后天). This reads the words
the resident put around their answer; the NLU's intent (affirm / deny / thank) is the
tie-breaker for messages without a leading answer word.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from nlu.normalize import normalize


class AnswerKind(enum.Enum):
    """What kind of answer a message is."""

    YES = "yes"
    NO = "no"
    WITHDRAW = "withdraw"
    CORRECTION = "correction"
    NONE = "none"


@dataclass(frozen=True)
class Answer:
    """An answer and the words left after its answer words (they may carry slot values)."""

    kind: AnswerKind
    rest: str = ""
    replaced: str = ""  # what a correction says is wrong ("不是东门是西门" → 东门)


_FILLER = r"(?:那个|就是|这个|嗯+|啊+|哦+|噢+|呃+|额+|诶|唉|哎|喂|那|就)"
_SEP = r"[\s,，.。!！~～、…;；:：]{0,3}"
# leading yes words; longer forms first. 好 only as an answer (not 好几天 / 好多 / 好像).
_YES_WORDS = (
    "没问题|没错|可以的|可以|行的|行吧|行|对的|对对|对|是的|是啊|是|好的|好嘞|好咧|好滴|"
    "好吧|好啊|好|嗯呐|嗯哪|嗯嗯|嗯|中|成|确认|确定|ok|okay|yes|就这样|就这么着|那就这么着|"
    "就这么办|就这么定|这么定|就这样吧|定了|没毛病|妥|按这个|就这个|报吧|报上|提交|行了|1(?![0-9号])"
)
_YES = re.compile(
    rf"^{_SEP}(?:{_FILLER}{_SEP}){{0,2}}(?:{_YES_WORDS})(?![几多久像么些不点面门于接象着])"
)
# questions built from answer words: 是不是, 好不好, 行不行, 对不对, 可以吗 …
_QUESTION = re.compile(
    r"(?:是不是|好不好|行不行|对不对|可不可以|能不能|要不要|有没有|会不会|开不开|收不收|"
    r"[吗么嘛]\s*[?？]?\s*$|[?？]|多少|几点|哪里|哪儿|怎么|咋|啥时候|什么时候|为啥|为什么)"
)
_WITHDRAW = re.compile(
    r"(?:不用了|不用啦|^不用$|不需要了|不需要|先不[弄报约办去要了修]|不[弄报约办去要]了|算了吧?|"
    r"不要了|别弄了|别报了|别来了|不麻烦了|取消|撤回|撤销|不办了|不修了|用不着了|"
    r"(?:已经|自己|物业|人家|刚刚|刚)[^，,。]{0,4}(?:修好|弄好|处理好|解决)了|"
    r"(?:修好|弄好|处理好)了[，,\s]*(?:不用|没事)|没事了)"
)
_CORRECTION = re.compile(
    r"^(?:不对|不是|错了|搞错了|说错了|弄错了|写错了|改一下|改成|换成|换到|改到|应该是|"
    r"[^，,。]{0,6}(?:错了|不对))"
)
# a yes said later in the message (你就这么给报吧, 那就这样吧 报上, 有事打我电话… 对 就这些,
# 能的话给我报一个)
_YES_LATER = re.compile(
    r"(?:给报|报吧|报上吧|就这么报|这么给报|提交吧|就这么办|就这么着|那就这样|就(?:是)?这些了?$"
    r"|也帮我(?:报|登记|申请|办)|[给帮]我报(?:上|一个|个名)(?=$|[，,。\s吧呗啊呀哈了])"
    r"|[给帮]我约上|就给我约|给我约上|约上吧|就约(?:这个|这场|它)|就报这个)"
)
# a yes said after the answer, as its own word (电话13344445555 对, 住安康小区2号楼 对)
_YES_AT_END = re.compile(
    r"[\s,，.。!！~～、]{1,8}(?:对对|对的|对|是的|好的|好|行|可以|没错|嗯嗯|嗯)[啊呀吧了]?$"
)
_NOT_X_BUT_Y = re.compile(r"不是([^，,。是]{1,12})[，,\s]*(?:而)?是([^，,。]{1,30})")
_CHANGE_TO = re.compile(r"(?:改成|换成|换到|改到|应该是|是)([^，,。]{1,30})$")
# "那就铁指江南的 不是东关 我说错了": what is right, what is not, and that it was a slip
_SAID_WRONG = re.compile(r"(?:我|俺)?(?:说错了|记错了|搞错了|弄错了|写错了|说反了)")
_NOT_X = re.compile(r"不是([^，,。\s]{1,12})")
_OPENING = 4  # a correction opens the message when it starts within these characters (哦 不对)
_OF_SOMEONE_ELSE = re.compile(r"[他她](?:说|也|就|都|又|可)?$")
# a yes closing a part of an answer ("给我自己约 对", "康复那个对 我自己去"), not 不对 / 绝对;
# 行 / 可以 there say "that will do" of the answer (年前就行 is a deadline, no yes)
_CLAUSE_YES = re.compile(r"(?:(?<![不没别绝面针相核应派反])对的?|是的|(?<!不)没错|好的|ok)$")
_CLAUSES = re.compile(r"[\s,，.。!！~～、;；]+")
_NO = re.compile(r"^(?:不对|不是|不|没有|不要|no|2|否|错了|不行)$")
# "对了 先说个事 …", "对了 还有": by the way, something else (no yes to anything)
_BY_THE_WAY = re.compile(
    r"^(?:[哦噢啊诶哎][\s,，]*)?对了[\s,，!！]*"
    r"(?:先说|还有|顺便|另外|忘了|差点忘|想起来|问一下|问下|问个|再说|还想|我还|说个事|说一下|一件事)"
)
_THANKS = re.compile(
    r"^(?:(?:好的?|嗯+|哦+|行|ok)[\s,，]*)?(?:谢谢|谢了|多谢|感谢|辛苦了?|麻烦了|麻烦你们了|"
    r"拜拜|再见|没事了|好的谢谢|谢谢你们?|谢谢啦|谢啦|辛苦你们了)+(?:你们|啊|呀|了|哈|啦)*$"
)
_EDGE_CHARS = " \t\n,，.。!！~～、…;；:："
# a bare yes as the last words of a message, after what it answers (东关北街5号 13512340000 对)
_BREAK = re.compile(r"[\s,，.。!！~～、…;；:：]+")
_YES_LAST = re.compile(
    r"(?:没问题|没错|可以的|可以|行的|行|对的|对对|对|是的|是|好的|好|嗯+|确认|确定|ok|提交)"
    r"(?:啊|呀|吧|啦|哈)?"
)


def _plain(text: str) -> str:
    return normalize(text).text.lower()


def _trim(text: str) -> str:
    return text.strip(_EDGE_CHARS)


def is_withdrawal(text: str) -> bool:
    """True when the message ends the request (不用了 / 先不弄了 / 算了 / 物业修好了 …).

    Not when it opens by correcting and the withdrawing words are said of someone else,
    the reason for the correction ("不是给我老伴 是给我自己 她不去了").
    """
    plain = _plain(text)
    found = list(_WITHDRAW.finditer(plain))
    if not found or _only_question(plain):
        return False
    pair = _NOT_X_BUT_Y.search(plain)
    if pair is None or pair.start() > _OPENING:
        return True
    return not all(
        m.start() >= pair.start(2) and _OF_SOMEONE_ELSE.search(plain[: m.start()]) for m in found
    )


def _only_question(plain: str) -> bool:
    """A question about withdrawing ("要取消吗？") is not a withdrawal."""
    return plain.rstrip().endswith(("吗", "吗?", "吗？", "?", "？")) and len(plain) < 12


# "对了 …", "还有个事 …", "顺便说一下 …": what follows is another matter
_ANOTHER_MATTER = re.compile(
    r"^.{0,4}?(?:对了|还有(?:个|一个|一件)事|另外(?:还有)?|顺便|先说个事|再说个事|还有就是)"
)


def turns_to_another_matter(text: str) -> bool:
    """True when the message opens by turning to something else ("对了 先说个事 …")."""
    return _ANOTHER_MATTER.match(_plain(text)) is not None


def is_thanks_only(text: str) -> bool:
    """True for a bare thanks or goodbye (谢谢 / 辛苦了 / 好的谢谢 / 拜拜) with nothing else."""
    bare = re.sub(r"[\s,，.。!！~～、…]+", "", _plain(text))
    return bool(bare) and bool(_THANKS.match(bare))


def ends_with_yes(text: str) -> bool:
    """True when the message ends in a bare yes after other words (…电话13688889999 对的)."""
    words = [w for w in _BREAK.split(_plain(text)) if w]
    return len(words) > 1 and _YES_LAST.fullmatch(words[-1]) is not None


def read_answer(text: str, intent: str | None = None, confidence: float = 0.0) -> Answer:
    """How a message answers the bot's question: yes, no, withdraw, correction, or none."""
    plain = _trim(_plain(text))
    if not plain:
        return Answer(AnswerKind.NONE)
    if is_withdrawal(plain):
        return Answer(AnswerKind.WITHDRAW)
    correction = _correction(plain)
    if correction is not None:
        return correction
    if _NO.match(plain):
        return Answer(AnswerKind.NO)
    if _BY_THE_WAY.match(plain):
        return Answer(AnswerKind.NONE, plain)
    yes = _YES.match(plain)
    if yes is not None and not _asks(plain, yes.end()):
        return Answer(AnswerKind.YES, _trim(plain[yes.end() :]))
    if _YES_LATER.search(plain) and not _QUESTION.search(plain):
        return Answer(AnswerKind.YES, "")
    at_end = _YES_AT_END.search(plain)
    if at_end is not None and not _QUESTION.search(plain):
        return Answer(AnswerKind.YES, _trim(plain[: at_end.start()]))
    if intent == "affirm" and confidence >= 0.4 and not _QUESTION.search(plain):
        return Answer(AnswerKind.YES, "")
    if not _QUESTION.search(plain) and any(_CLAUSE_YES.search(c) for c in _CLAUSES.split(plain)):
        return Answer(AnswerKind.YES, plain)  # a yes after the answer: the answer is the rest
    if intent == "deny" and confidence >= 0.5 and len(plain) <= 6:
        return Answer(AnswerKind.NO)
    return Answer(AnswerKind.NONE, plain)


def _asks(plain: str, after_yes: int) -> bool:
    """The leading yes word is part of a question (是不是 / 可以吗 / 好不好)."""
    head = plain[: after_yes + 3]
    return bool(_QUESTION.match(plain)) or bool(
        re.match(r"^(?:是不是|好不好|行不行|对不对|可以吗|行吗|好吗|对吗|是吗)", head)
    )


def _correction(plain: str) -> Answer | None:
    """不对 是后天 / 不是东门，是西门 / 换成下午 / 地址错了 是5号楼."""
    pair = _NOT_X_BUT_Y.search(plain)
    if pair is not None:
        return Answer(AnswerKind.CORRECTION, _trim(pair.group(2)), _trim(pair.group(1)))
    wrong, against = _SAID_WRONG.search(plain), _NOT_X.search(plain)
    if wrong is not None and against is not None:
        rest = _trim(_SAID_WRONG.sub(" ", _NOT_X.sub(" ", plain)))
        if rest:
            return Answer(AnswerKind.CORRECTION, rest, _trim(against.group(1)))
    head = _CORRECTION.match(plain)
    if head is None:
        return None
    rest = _trim(plain[head.end() :])
    change = _CHANGE_TO.search(rest)
    if change is not None and rest.startswith(("是", "应该是")):
        rest = _trim(change.group(1))
    if not rest:
        return None
    return Answer(AnswerKind.CORRECTION, rest)
