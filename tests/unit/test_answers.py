"""Rule 4: a yes is a yes whatever follows it; withdrawals and corrections are told apart."""

from __future__ import annotations

import pytest

from handlers.engine.answers import AnswerKind, ends_with_yes, is_thanks_only, read_answer

Y, N, W, C, X = (
    AnswerKind.YES,
    AnswerKind.NO,
    AnswerKind.WITHDRAW,
    AnswerKind.CORRECTION,
    AnswerKind.NONE,
)
CASES = [
    ("对对 谢谢啊", Y, "谢谢啊"),
    ("嗯 那就这么着", Y, ""),
    ("是 都一礼拜了", Y, "都一礼拜了"),
    ("是的是的 麻烦你们了", Y, None),
    ("对的 辛苦了", Y, "辛苦了"),
    ("嗯那个对就是这个", Y, None),
    ("對 謝謝", Y, "谢谢"),
    ("OK", Y, ""),
    ("1", Y, ""),
    ("就按这个报吧", Y, None),
    ("你就这么给报吧", Y, ""),
    ("有事打我电话13912345678 对 就这些", Y, ""),
    ("就这些吗", X, None),
    ("就这么定吧 谢谢", Y, None),
    ("对 就我自己去 九点那个", Y, "就我自己去 9点那个"),
    ("能的话给我报一个", Y, ""),
    ("那给我报一个 谢谢", Y, ""),
    ("给我报个名呗", Y, ""),
    ("电话13344445555 对", Y, "电话13344445555"),
    ("住安康小區2號樓 對", Y, "住安康小区2号楼"),
    ("阀门关了 改造的事也帮我报上", Y, ""),
    ("下午 不行", X, None),
    ("13666668888", X, None),
    ("楼下那个是不是坏了 对", X, None),
    ("东关中巷3号楼 好几天了", X, None),
    ("好吧 那先不弄了 我问问物业再说", W, None),
    ("不用了 物业修好了", W, None),
    ("不用", W, None),
    ("先不约了", W, None),
    ("不对 是后天", C, "后天"),
    ("不是东门，是西门", C, "西门"),
    ("不是周四 是周五", C, "周五"),
    ("换到周五吧", C, "周五吧"),
    ("地址错了 是5号楼", C, "5号楼"),
    ("不对", N, None),
    ("不", N, None),
    ("2", N, None),
    ("好几天了", X, None),
    ("是不是要带证件", X, None),
    ("对面的路灯", X, None),
    ("可以吗？", X, None),
    ("周末开不开？", X, None),
    ("要交钱不？", X, None),
    ("给我报个插花", X, None),
    ("能给我报一个吗", X, None),
    ("下午吧 她上午起不来", X, None),
]


@pytest.mark.parametrize(("text", "kind", "rest"), CASES)
def test_how_a_message_answers(text: str, kind: AnswerKind, rest: str | None) -> None:
    answer = read_answer(text)
    assert answer.kind is kind
    if rest is not None:
        assert answer.rest == rest


def test_a_correction_names_what_it_replaces() -> None:
    assert read_answer("不是东门，是西门").replaced == "东门"


@pytest.mark.parametrize("text", ["谢谢", "辛苦了", "好的 谢谢", "谢谢你们"])
def test_thanks_alone(text: str) -> None:
    assert is_thanks_only(text)


@pytest.mark.parametrize("text", ["对对 谢谢啊", "谢谢 什么时候来", "东关中巷"])
def test_thanks_with_more_is_not_thanks_alone(text: str) -> None:
    assert not is_thanks_only(text)


@pytest.mark.parametrize(
    "text", ["东关北街5号 13512340000 对", "电话13688889999 对的", "住幸福里小区11号楼，好的"]
)
def test_a_yes_after_the_words_it_answers(text: str) -> None:
    assert ends_with_yes(text)


@pytest.mark.parametrize(
    "text", ["对", "东关北街5号", "身体不好", "颜色无所谓 对了", "下午吧 她上午起不来", "是不是"]
)
def test_no_yes_at_the_end(text: str) -> None:
    assert not ends_with_yes(text)
