"""Places as said (rule 8): the whole address around NLU's spans, never a fragment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlu.places import find_place, is_place_answer, names_a_place

PLACES = [
    ("光华社区12号楼3单元门口 就上礼拜刚修过", [], "光华社区12号楼3单元门口"),
    ("光华社区7号楼1单元", [(0, 2)], "光华社区7号楼1单元"),
    ("东升社区8号楼三单元二楼", [(4, 7)], "东升社区8号楼三单元二楼"),
    ("五号楼和六号楼之间的路灯坏了", [], "五号楼和六号楼之间"),
    ("育才街的路灯不亮", [], "育才街"),
    ("红旗街道育才路那边井盖没了", [], "红旗街道育才路那边"),
    ("小榆树村村委会门口", [], "小榆树村村委会门口"),
    ("三道沟镇", [], "三道沟镇"),
    ("东关中巷的路灯坏了", [(0, 4)], "东关中巷"),
    ("南关路 加油站往北那段", [], "南关路 加油站往北那段"),
    ("安康小区东门", [], "安康小区东门"),
    ("前进社区8号楼", [(4, 8)], "前进社区8号楼"),
    ("金色家园B区4栋", [(0, 2)], "金色家园B区4栋"),
    ("和平街86號", [], "和平街86號"),
    ("東關中巷3號樓", [], "東關中巷3號樓"),
    ("东关大街邮局门口那个路灯", [], "东关大街邮局门口"),
    ("菜市场后面垃圾堆成山了", [], "菜市场后面"),
    ("幸福里小区5号楼1单元302", [], "幸福里小区5号楼1单元302"),
    ("太平村三組 我家廚房一股煤氣味", [], "太平村三組"),
    ("向阳镇中心小学对面一股煤气味", [], "向阳镇中心小学对面"),
    ("就是垃圾那块 幸福里小区3号楼楼道里堆得满满的", [], "幸福里小区3号楼楼道"),
    ("东关南巷的路面塌了个坑", [], "东关南巷"),
]
NOT_PLACES = [
    "我们院里那个灯又不亮了 黑灯瞎火的",
    "一个人住",
    "好几天了",
    "谢谢",
    "下周二上午",
    "路灯坏了",
    "楼道里一股煤气味",
    "想找社区调解",
    "邻居家天天吵",
    "对了 那堆垃圾里还有碎玻璃 小孩路过容易扎着",
]


@pytest.mark.parametrize(("text", "spans", "place"), PLACES)
def test_a_place_is_kept_whole_as_said(text: str, spans: list[tuple[int, int]], place: str) -> None:
    found = find_place(text, spans)
    assert found is not None and found.text == place


@pytest.mark.parametrize("text", NOT_PLACES)
def test_words_that_are_no_place_give_none(text: str) -> None:
    assert find_place(text) is None


def test_a_gate_alone_answers_where_and_a_detail_names_no_place() -> None:
    assert is_place_answer("西门")
    assert not is_place_answer("谢谢")
    assert names_a_place("光华社区12号楼")
    assert not names_a_place("2楼拐角")


@given(st.text(alphabet="东关中巷光华社区号楼单元门口路灯坏了 0123456789的和那", max_size=60))
def test_the_place_is_a_piece_of_the_message(text: str) -> None:
    found = find_place(text)
    if found is not None:
        assert text[found.start : found.end] == found.text


def test_the_product_reads_a_message_the_same_way_for_predict_and_the_pipeline() -> None:
    from nlu.client import Entity, ParseResult
    from nlu.normalize import normalize
    from nlu.understand import reading

    text = "光華社區7號樓1單元的路燈壞了"
    norm = normalize(text)
    cut = ParseResult(norm.text, "report_streetlight", 0.9, (Entity("location", "光华", 0, 2),))
    read = reading(text, norm, cut)
    [place] = [e for e in read.entities if e.entity == "location"]
    assert text[place.start : place.end] == "光華社區7號樓1單元"
    assert place.value == "光华社区7号楼1单元" and read.normalized == norm.text


@pytest.mark.parametrize("text", ["老太太走不动道了 想弄个轮椅", "我也不知道路怎么走"])
def test_a_one_character_place_word_needs_a_name_before_it(text: str) -> None:
    assert find_place(text) is None
