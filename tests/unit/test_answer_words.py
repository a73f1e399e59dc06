"""How an answer reads when it corrects and explains, or says a slip was a slip (no Rasa)."""

from __future__ import annotations

from handlers.engine.answers import AnswerKind, is_withdrawal, read_answer


def test_a_correction_whose_reason_is_someone_else_not_going_is_no_withdrawal() -> None:
    answer = read_answer("不是给我老伴 是给我自己 她不去了")
    assert answer.kind is AnswerKind.CORRECTION
    assert answer.rest.startswith("给我自己") and answer.replaced == "给我老伴"
    assert not is_withdrawal("不是给我老伴 是给我自己 她不去了")


def test_withdrawing_stays_a_withdrawal() -> None:
    for text in ("算了不约了 她说不想去", "不用了 我闺女说她带我去县医院做", "先不约了"):
        assert read_answer(text).kind is AnswerKind.WITHDRAW, text
    assert read_answer("不是周四 我不去了").kind is AnswerKind.WITHDRAW  # the writer withdraws


def test_what_is_right_before_what_is_not_and_a_slip_is_a_correction() -> None:
    answer = read_answer("那就铁指江南的 不是东关 我说错了")
    assert (answer.kind, answer.rest, answer.replaced) == (
        AnswerKind.CORRECTION,
        "那就铁指江南的",
        "东关",
    )
    assert read_answer("想约康复 不是很急").kind is AnswerKind.NONE  # no slip said: no correction


def test_ten_oclock_is_no_yes_and_a_yes_closes_an_answer() -> None:
    for text in ("十点那个", "10点", "1号"):
        assert read_answer(text).kind is not AnswerKind.YES, text
    for text in ("给我自己约 对", "康复那个对 我自己去"):
        assert read_answer(text).kind is AnswerKind.YES, text
    for text in ("不对", "我去银行", "绝对", "不可以", "这样行吗", "年前就行"):
        assert read_answer(text).kind is not AnswerKind.YES, text
