"""Questions about an activity answered from its own data: where, when, the fee, what to bring.

"在哪儿" is its place, "几点开始" its time, "收费吗" what its description says about money,
"要带啥" the sentences of its description about bringing or materials. Any other question
is answered with the sentence of the description that shares most words with it (坐轮椅能做不
→ 坐着也能做), and the resident is told a person can say more. Questions about signing up
itself (能报名不, 怎么报名) get no answer here: the next step of the sign-up is the answer.
"""

from __future__ import annotations

import re

from handlers.activities.offer import when_text
from nlu.normalize import normalize
from storage.bookings import Activity

ASK_PERSON = "更细的可以回复“转人工”问工作人员。"
_WHERE = re.compile(r"在哪|哪里|哪儿|哪边|什么地方|啥地方|地点|地址|怎么走|咋走")
_WHEN = re.compile(r"几点|什么时候|啥时候|哪天|几号|多久|多长时间|时间|开始|结束|到几点")
_FEE = re.compile(r"钱|收费|免费|费用|交费|缴费|付费|花钱|要钱")
_BRING = re.compile(r"带|准备|材料|拿什么|拿啥|穿")
_SIGN_UP = re.compile(r"(?:能|可以|怎么|咋|如何|在哪)(?:报名|报|参加)|报名(?:吗|不|么)|能报")
_CLAUSE = re.compile(r"[，,。；;！!？?：:]")
_BRING_WORDS = re.compile(r"带|准备|材料|自备")
_STOP = frozenset("的了吗呢吧啊呀嘛么不要能会可是有我你他她它们这那个什么怎么咋啥吗去来还都也就")


def _clauses(description: str) -> list[str]:
    return [c.strip() for c in _CLAUSE.split(description) if c.strip()]


def _overlap(question: str, clause: str) -> float:
    grams = {question[i : i + 2] for i in range(len(question) - 1)}
    shared = sum(2.0 for i in range(len(clause) - 1) if clause[i : i + 2] in grams)
    chars = {c for c in question if c not in _STOP and "\u4e00" <= c <= "\u9fff"}
    return shared + sum(1.0 for c in set(clause) if c in chars)


def _fee(activity: Activity) -> str:
    if "免费" in activity.description:
        return "不收费，是免费的"
    return "通知里没说要交钱"


def _bring(activity: Activity) -> str:
    said = [c for c in _clauses(activity.description) if _BRING_WORDS.search(c)]
    return "，".join(said) if said else "通知里没说要自己带东西"


def answer_about(activity: Activity, text: str, *, strict: bool = False) -> str | None:
    """The answer to a question about the activity, or None.

    strict: only questions of a known kind (where, when, fee, bring) are answered; a message
    that also gave what the sign-up needs is not answered with a guess.
    """
    plain = normalize(text).text
    facts = []
    if _WHERE.search(plain):
        facts.append(f"地点：{activity.place}")
    if _WHEN.search(plain):
        facts.append(f"时间：{when_text(activity.starts_at, activity.ends_at)}")
    if _FEE.search(plain):
        facts.append(_fee(activity))
    if _BRING.search(plain):
        facts.append(_bring(activity))
    if facts:
        return f"【{activity.title}】" + "；".join(facts) + "。"
    if strict or _SIGN_UP.search(plain):
        return None
    clauses = _clauses(activity.description)
    scored = sorted(((_overlap(plain, c), i) for i, c in enumerate(clauses)), reverse=True)
    if scored and scored[0][0] >= 2:
        best = [clauses[i] for score, i in scored[:2] if score >= scored[0][0] - 1e-9]
        return f"【{activity.title}】" + "，".join(best) + "。" + ASK_PERSON
    return f"【{activity.title}】{activity.description}{ASK_PERSON}"
