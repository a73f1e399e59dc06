"""Chat commands and rating words, parsed without NLU."""

from __future__ import annotations

from handlers.commands import Command, command_verbs, parse_command
from handlers.rating import rating_of
from storage.privacy import mask_name, mask_phone, mask_text

VERBS = command_verbs(["cmd:接单", "cmd:完成", "cmd:我的任务", "cmd:我的", "greet"])


def test_verbs_longest_first():
    assert VERBS == ["我的任务", "接单", "完成", "我的"]


def test_commands_with_numbers_and_notes():
    assert parse_command("接单 1001", VERBS) == Command("接单", "1001", "")
    assert parse_command("接单1001", VERBS) == Command("接单", "1001", "")
    assert parse_command("  完成 １００２ 已更换灯泡 ", VERBS) == Command(
        "完成", "1002", "已更换灯泡"
    )
    assert parse_command("完成：#1003，已处理", VERBS) == Command("完成", "1003", "已处理")
    assert parse_command("接单 j1001", VERBS) == Command("接单", "J1001", "")
    assert parse_command("我的任务", VERBS) == Command("我的任务", None, "")


def test_ordinary_sentences_are_not_commands():
    assert parse_command("完成了吗", VERBS) is None
    assert parse_command("接单的人什么时候来", VERBS) is None
    assert parse_command("我的路灯报修怎么样了", VERBS) is None
    assert parse_command("东关中巷路灯坏了", VERBS) is None


def test_rating_words_and_digits():
    assert rating_of("5") == 5
    assert rating_of("１") == 1
    assert rating_of("满意") == 5
    assert rating_of("不满意！") == 2
    assert rating_of("一般吧") is None
    assert rating_of("一般") == 3
    assert rating_of("6") is None
    assert rating_of("路灯修好了") is None


def test_masks():
    assert mask_phone("13800000101") == "138****0101"
    assert mask_phone(None) == "未留"
    assert mask_name("张秀兰") == "张**"
    assert mask_text("电话13912345678，身份证220102198001011234") == (
        "电话139****5678，身份证220102********1234"
    )


def test_similar_places():
    from storage.ticket_flow import similar_places

    assert similar_places("安康小区东门", "安康小区东门口")
    assert similar_places("东关中巷3号楼门口", "东关中巷3号楼")
    assert similar_places("幸福里小区五栋楼下花坛边", "幸福里小区五栋楼下的花坛")
    assert not similar_places("东关中巷", "东关南巷")
    assert not similar_places("幸福里小区3号楼", "幸福里小区5号楼")
    assert not similar_places("东关中巷", None)
