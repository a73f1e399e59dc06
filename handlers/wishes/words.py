"""The words of a micro-wish: what is wished, for whom, by when, and the contact kept private.

Every message of a wish is read for all of these (rule 1). What is wished is the resident's
own words with everything private taken out — the address, phone numbers — and with the
words that only make the wish (想许个微心愿) or answer the bot (对, 谢谢) left out, so the
public list shows the wish alone. A deadline is a phrase such as 月底前 or 年前, never a yes
word or a house number (东关南巷5号 is no "5th"). The address and phone are kept for staff.

A message is read clause by clause (the runs between spaces and punctuation) in its
normalised form (nlu.normalize); the words kept come back in the characters typed.
"""

from __future__ import annotations

import re

from handlers.engine.answers import AnswerKind, is_thanks_only, read_answer
from handlers.engine.details import SELF, deadline, is_question, phone, relation
from nlu.normalize import Normalized, normalize
from nlu.places import find_place
from storage.privacy import mask_text
from storage.wishes import Wish

MAX_WISH = 100  # characters of a wish's public text
MAX_ADDRESS = 80
_CJK = "\u4e00-\u9fff"  # the characters themselves: PCRE2 (the step counter) has no \u
# Every repeat that can fail after it is bounded, so no start position backtracks over a
# whole run of spaces or digits (tests/unit/test_regex_steps.py counts the steps).
_CONTACT = re.compile(r"(?:电话|手机|号码|联系方式|身份证号?)?[是为:：\s]{0,4}[\dXx*]{7,}")
_PUNCT_RUN = re.compile(r"[，,。；;、\s]{2,}")
_HOUSE = re.compile(r"\d{1,6}\s{0,2}(?:号楼|栋|单元|室|号|楼)")
_CLAUSE = re.compile(r"[^\s,，。.!！;；、?？~～…:：]+")
_HANZI = re.compile(f"[{_CJK}]")
_DIGITS = re.compile(r"(?<![0-9])[0-9]{7,}")
# a contact's label on its own (电话是 | 13812345678 split by a space)
_CONTACT_LABEL = re.compile(
    r"(?:我的|我家|我)?(?:电话|手机号|手机|联系方式|微信|座机)(?:号码|号)?(?:是|为)?"
)
_NOT_WANTED = re.compile(r"不想|不要|不用|不需要|别")
# words that confirm what the bot wrote, not words of the wish
_CONFIRMING = re.compile(
    r"(?:就|就是)?(?:这么写|这样写|这么着|这样|这个|这些|没别的|没了|没有了)(?:吧|了|啊)?"
    r"|(?:我|俺)?(?:就是|就)?(?:想|要)(?:啊|呢|吧)?"
)
_LIVES = re.compile(r"住(?!院|不)|地址|门牌")
# the words that make a wish rather than say it: 许个微心愿, 我的心愿是, 愿望就是
_MAKING = re.compile(r"许(?:一)?个?(?:微)?心?愿|(?:微)?心愿(?:是|就是)?|愿望(?:是|就是)?")
_LEAD = re.compile(
    r"(?:那个|就是|这个|嗯{1,3}|啊{1,3}|哦{1,3}|呃{1,3}|还有|另外|对了|补充一下|补充|那|就|想想){1,6}"
)
_ADDRESS_LEAD = re.compile(
    r"(?:我们家|我家|俺家|咱家|我们|家住|住在|地址是|地址|我|俺|咱|住|在|家|就){1,6}"
)
_ADDRESS_TAIL = re.compile(r"(?:住着|住|这里|这儿|那里){1,3}$")
# words that say something is wanted (不想 / 没要 do not)
_WANT = re.compile(
    r"(?<![不没别])(?:想要|想有|想让|想请|想学|想拍|想买|想换|想修|想去|想找|想吃|想看|想听|"
    r"想给|想添|想弄|想配|想装|盼着|盼|希望|需要|缺个|缺一|缺少|"
    r"要(?:个|一|两|几|套|件|本|副|台|双|盒|辆|把|张|只|条|块|些|点|部|支|床|顶|袋|箱|份|对)|"
    rf"想(?!许|法|问|知道|说|想|起|到|咨询|投诉|了解)(?=[{_CJK}]{{2}}))"
)
# after whom it is for, words that make them the giver (羽绒服闺女给买了)
_GIVER_AFTER = re.compile(r"(?:已经|都|也)?(?:给|帮)?(?:买|送|寄|带|准备|织|做|给)(?:了|过)")
_DEADLINE_LEFT = re.compile(r"就行|就好|就可以|都行|可以|最好|希望|能|吧|啊|前|之前|以前")
_ELDER = ("爸", "妈", "爷", "奶", "姥", "外公", "外婆", "老伴", "老人", "公公", "婆婆", "老头")
_CHILD = ("孩子", "儿子", "女儿", "孙", "娃", "学生", "宝宝", "闺女", "小孩")


def public_words(text: str, place: str | None = None) -> str:
    """The wish as it may be shown publicly: no phone or ID numbers, place or house numbers."""
    words = _CONTACT.sub("", text.strip())
    if place:
        words = words.replace(place, "")
    words = _PUNCT_RUN.sub("，", _HOUSE.sub("", words))
    return words.strip(" ，,。.！!；;、")[:MAX_WISH]


def whom_label(said: str | None) -> str:
    """Who the wish is for, in the public list's words (本人, 老人, 孩子, 家人)."""
    if not said or said == SELF:
        return "本人"
    if any(word in said for word in _CHILD):
        return "孩子"
    if any(word in said for word in _ELDER):
        return "老人"
    return "家人"


def wish_line(wish: Wish) -> str:
    """One line of the public list: number, for whom, what, by when (no personal details)."""
    due = f"（希望{mask_text(wish.due_text)}）" if wish.due_text else ""
    return f"{wish.number}【{wish.for_whom}】{mask_text(wish.wish)}{due}"


def _clauses(t: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _CLAUSE.finditer(t)]


def _said(norm: Normalized, start: int, end: int) -> str:
    lo, hi = norm.to_original(start, end)
    return norm.original[lo:hi]


def _place_span(t: str) -> tuple[int, int] | None:
    place = find_place(t)
    return (place.start, place.end) if place is not None else None


def _is_contact(t: str, start: int, end: int, place: tuple[int, int] | None) -> bool:
    """The clause gives a phone, an address or a house number: private, never public."""
    clause = t[start:end]
    if _DIGITS.search(clause) or _CONTACT_LABEL.fullmatch(clause) or phone(clause):
        return True
    if _HOUSE.search(clause):
        return True
    if place is None:
        return False
    overlap = min(end, place[1]) - max(start, place[0])
    if overlap <= 0:
        return False
    return bool(_LIVES.search(clause)) or overlap * 5 >= (end - start) * 3


def _is_answer(clause: str) -> bool:
    """A bare answer to the bot (对, 好的, 不是, 谢谢), not words of the wish."""
    if is_thanks_only(clause) or _CONFIRMING.fullmatch(clause):
        return True
    answer = read_answer(clause)
    return answer.kind in (AnswerKind.YES, AnswerKind.NO) and len(answer.rest) < 2


def _only_deadline(clause: str) -> bool:
    """The clause says by when and nothing else (年前就行, 月底前吧)."""
    due = deadline(clause)
    if due is None:
        return False
    return len(_DEADLINE_LEFT.sub("", clause.replace(due, ""))) < 2


def _wish_clauses(norm: Normalized) -> list[tuple[int, int, bool]]:
    """(start, end, wanting) of each clause that may be words of the wish."""
    t = norm.text
    place = _place_span(t)
    kept = []
    for start, end in _clauses(t):
        if _is_contact(t, start, end, place):
            continue
        makings = list(_MAKING.finditer(t, start, end))
        if makings:
            start = makings[-1].end()
        lead = _LEAD.match(t, start, end)
        if lead is not None:
            start = lead.end()
        clause = t[start:end]
        if len(clause) < 2 or _is_answer(clause) or _only_deadline(clause):
            continue
        wanting = bool(_WANT.search(clause))
        if not wanting and _NOT_WANTED.search(clause):
            continue  # 不想让别人知道: not the wish
        kept.append((start, end, wanting))
    return kept


def wish_text(text: str, *, needs_cue: bool, replaced: str = "") -> str | None:
    """What is wished, in the resident's words without anything private, or None.

    needs_cue: only from the first clause that says something is wanted (想要, 要个, 希望),
    as when the wish is read out of a longer message; otherwise every clause that is not
    contact, an answer or the making of the wish (the answer to "what is your wish?").
    replaced: what a correction took back (不是羽绒服 是棉鞋): clauses naming it are left out.
    """
    if is_question(text):
        return None
    norm = normalize(text)
    clauses = _wish_clauses(norm)
    if needs_cue:
        first = next((i for i, (_, _, wanting) in enumerate(clauses) if wanting), None)
        clauses = clauses[first:] if first is not None else []
    if replaced:
        clauses = [
            c for i, c in enumerate(clauses) if i == 0 or replaced not in norm.text[c[0] : c[1]]
        ]
    words = public_words("，".join(_said(norm, start, end) for start, end, _ in clauses))
    return words if len(_HANZI.findall(words)) >= 2 else None


def for_whom(text: str) -> str | None:
    """Whom the wish is for, as said (我孙女, 老伴, self), or None."""
    found = relation(text)
    if found is None or found == SELF:
        return found
    at = text.find(found)
    if at >= 0 and _GIVER_AFTER.match(normalize(text[at + len(found) :]).text):
        return None  # 闺女给买了: the one who gave, not whom it is for
    return found


def wanted_by(text: str) -> str | None:
    """By when the wish is wanted, as said (月底前, 年前), read outside the contact details."""
    norm = normalize(text)
    t = norm.text
    place = _place_span(t)
    for start, end in _clauses(t):
        if _is_contact(t, start, end, place):
            continue
        due = deadline(t[start:end])
        if due is not None:
            at = t.index(due, start)
            return _said(norm, at, at + len(due))
    return None


def address(text: str) -> str | None:
    """Where the resident lives (城关镇东街村, 光华社区12号楼3单元), normalised, or None."""
    norm = normalize(text)
    t = norm.text
    place = _place_span(t)
    for start, end in _clauses(t):
        clause = t[start:end]
        if _DIGITS.search(clause) or _CONTACT_LABEL.fullmatch(clause) or phone(clause):
            continue  # the phone's clause
        lives = _LIVES.search(clause) is not None
        if not lives and not (place and _is_contact(t, start, end, place)):
            continue
        lead = _ADDRESS_LEAD.match(t, start, end)
        begin = lead.end() if lead else start
        tail = _ADDRESS_TAIL.search(t, begin, end)
        stop = tail.start() if tail else end
        said = t[begin:stop]
        if len(said) >= 2 and (find_place(said) is not None or _HOUSE.search(said)):
            return said[:MAX_ADDRESS]  # normalised, as places are stored
    return None
