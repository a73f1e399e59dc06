"""Dialogue helpers: cancel words and numbered choices the way residents type them."""

from __future__ import annotations

import pytest

from handlers.dialogue import answers_without_nlu, choice_number, is_cancel, is_status_command


@pytest.mark.parametrize(
    ("text", "number"),
    [("1", 1), ("１", 1), (" 2 ", 2), ("第二个", 2), ("选3", 3), ("三", 3), ("2。", 2),
     ("第1项", 1), ("路灯", None), ("12", None), ("", None), ("1号楼", None)],
)  # fmt: skip
def test_choice_number(text, number):
    assert choice_number(text) == number


@pytest.mark.parametrize("text", ["取消", "算了", "算了吧", "不报了！", " 取消 ", "Cancel"])
def test_cancel_words(text):
    assert is_cancel(text)


@pytest.mark.parametrize("text", ["取消预约明天的康复", "算了算了你们不管吗", "1"])
def test_not_cancel(text):
    assert not is_cancel(text)


def test_only_answers_to_the_bots_question_skip_nlu():
    assert answers_without_nlu("1", {"flow": "report"})
    assert not answers_without_nlu("1", {})
    assert not answers_without_nlu("东关中巷", {"flow": "report"})


@pytest.mark.parametrize("text", ["查询", "查询 1001", "查询1001。", "查进度", " 进度 "])
def test_the_bots_own_status_command_needs_no_nlu(text):
    assert is_status_command(text) and answers_without_nlu(text, {})


@pytest.mark.parametrize("text", ["查询一下我报的路灯", "查询 12", "帮我查询"])
def test_other_status_questions_go_to_nlu(text):
    assert not is_status_command(text)
