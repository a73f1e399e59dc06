"""nlu.normalize: exact normalised text, and exact mapping of spans back to the original."""

from __future__ import annotations

from typing import Any

import pytest

from nlu import normalize as normalize_mod
from nlu.normalize import Normalized, map_entities, normalize

TEXT_CASES = [
    # traditional -> simplified, emoji dropped, trimmed
    ("三號樓 路燈壞了😭", "3号楼 路灯坏了"),
    ("３號樓２單元的樓道燈不亮了", "3号楼2单元的楼道灯不亮了"),
    ("想给我爸約個康復訓練", "想给我爸约个康复训练"),
    ("臺灣同胞來社區辦事", "台湾同胞来社区办事"),
    ("電梯壞了三個禮拜沒人修", "电梯坏了3个礼拜没人修"),
    # hanzi numbers before measure words
    ("十二单元", "12单元"),
    ("我家在五栋三单元七零二室", "我家在5栋3单元702室"),
    ("十二号楼门口井盖不见了！！", "12号楼门口井盖不见了!!"),
    ("楼上装修吵了三天了", "楼上装修吵了3天了"),
    ("老人八十五岁一个人在家", "老人85岁一个人在家"),
    ("想约明天下午三点的康复", "想约明天下午3点的康复"),
    ("一百零八号门口", "108号门口"),
    ("一楼的路灯坏了", "1楼的路灯坏了"),
    ("一号楼", "1号楼"),
    ("一楼楼道全是纸箱", "1楼楼道全是纸箱"),
    ("一单元", "1单元"),
    ("一月份", "1月份"),
    ("二零二五年残疾证到期了", "2025年残疾证到期了"),
    ("两点半来", "2点半来"),
    ("来两个人", "来2个人"),
    ("下午一点来", "下午1点来"),
    ("十一点以后还在装修", "11点以后还在装修"),
    ("第三次打电话了", "第3次打电话了"),
    ("三层以上没水", "3层以上没水"),
    ("一百岁老人", "100岁老人"),
    ("一万二千元", "12000元"),
    ("三個月了", "3个月了"),
    ("周三下午两点", "周三下午2点"),
    ("周三三点", "周三3点"),
    ("星期天十点", "星期天10点"),
    ("礼拜六两点半", "礼拜六2点半"),
    # full-width -> half-width; 、。 kept
    ("  全角ＡＢＣ１２３，！？\u3000 好的。 ", "全角ABC123,!? 好的。"),
    ("電話：１３８００１３８０００", "电话:13800138000"),
    ("Ｗｉ－Ｆｉ没信号", "Wi-Fi没信号"),
    ("轮椅、拐杖、助听器。", "轮椅、拐杖、助听器。"),
    ("（急）煤气味", "(急)煤气味"),
    ("③号楼", "3号楼"),
    ("⑫号楼", "12号楼"),
    # whitespace, emoji, control characters
    ("东关中巷  \n 晚上没有路灯", "东关中巷 晚上没有路灯"),
    ("\t在吗？\n", "在吗?"),
    ("轮椅坏了 😭😭 怎么办", "轮椅坏了 怎么办"),
    ("路灯坏了😭楼道也黑", "路灯坏了 楼道也黑"),
    ("👍🏻ok❤️", "ok"),
    ("👨‍👩‍👧全家都在", "全家都在"),
    ("1️⃣号楼", "1号楼"),
    ("路灯\u200b不亮\x07", "路灯不亮"),
    ("\ufeff在吗", "在吗"),
    ("", ""),
    ("   ", ""),
    ("😭", ""),
]

UNCHANGED = [
    "一直没人来修",
    "麻烦你们来看一下",
    "老人一个人在家",
    "万一出事怎么办",
    "服务十分周到",
    "三心二意",
    "我们一起去",
    "快一点来",
    "好一点了吗",
    "三四天了",
    "五六个人",
    "一天到晚吵",
    "楼道里一层灰",
    "一楼道的垃圾",
    "第一次",
    "一年到头",
    "五一假期",
    "初三",
    "百岁老人",
    "星期一",
    "周一上午",
    "一周了",
    "十几个人",
    "有点吵",
    "一会儿就来",
]

SPAN_CASES = [
    # (original, substring of the normalised text, the original substring it must map to)
    ("三號樓 路燈壞了😭", "3号楼", "三號樓"),
    ("三號樓 路燈壞了😭", "路灯坏了", "路燈壞了"),
    ("三號樓 路燈壞了😭", "3号楼 路灯坏了", "三號樓 路燈壞了"),
    ("\u3000我在１２號樓２單元", "12号楼2单元", "１２號樓２單元"),
    ("我家在五栋三单元七零二室", "702室", "七零二室"),
    ("我家在五栋三单元七零二室", "5栋3单元", "五栋三单元"),
    ("明天下午三點能來嗎？", "明天下午3点", "明天下午三點"),
    ("😭😭 一百零八号 门口", "108号", "一百零八号"),
    ("😭😭 一百零八号 门口", "门口", "门口"),
    ("东关中巷  \n 晚上没有路灯", "东关中巷 晚上", "东关中巷  \n 晚上"),
    ("东关中巷  \n 晚上没有路灯", "路灯", "路灯"),
    ("👍路灯\u200b不亮", "路灯不亮", "路灯\u200b不亮"),
    ("想给我爸約個康復訓練", "我爸", "我爸"),
    ("想给我爸約個康復訓練", "康复训练", "康復訓練"),
    ("二零二五年的殘疾證", "2025年", "二零二五年"),
    ("二零二五年的殘疾證", "残疾证", "殘疾證"),
    ("③号楼", "3号楼", "③号楼"),
    ("⑫号楼门口", "12号楼", "⑫号楼"),
    ("⑫号楼门口", "门口", "门口"),
    ("周三下午两點來", "周三下午2点", "周三下午两點"),
    ("老人八十五岁一个人在家", "85岁", "八十五岁"),
    ("老人八十五岁一个人在家", "一个人", "一个人"),
    ("电话：１３８００１３８０００谢谢", "13800138000", "１３８００１３８０００"),
    ("路灯坏了😭楼道也黑", "楼道也黑", "楼道也黑"),
    ("路灯坏了😭楼道也黑", "坏了 楼道", "坏了😭楼道"),
    ("  在吗  ", "在吗", "在吗"),
]


@pytest.mark.parametrize(("original", "expected"), TEXT_CASES)
def test_normalized_text(original: str, expected: str) -> None:
    assert normalize(original).text == expected


@pytest.mark.parametrize("original", UNCHANGED)
def test_words_with_numerals_stay(original: str) -> None:
    assert normalize(original).text == original


@pytest.mark.parametrize(("original", "norm_sub", "orig_sub"), SPAN_CASES)
def test_span_maps_back(original: str, norm_sub: str, orig_sub: str) -> None:
    norm = normalize(original)
    start = norm.text.index(norm_sub)
    mapped = norm.to_original(start, start + len(norm_sub))
    assert mapped == (original.index(orig_sub), original.index(orig_sub) + len(orig_sub))
    assert original[mapped[0] : mapped[1]] == orig_sub


@pytest.mark.parametrize(("original", "_expected"), TEXT_CASES)
def test_map_is_monotone_and_in_bounds(original: str, _expected: str) -> None:
    norm = normalize(original)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for i in range(len(norm.text)):
        s, e = norm.to_original(i, i + 1)
        assert 0 <= s < e <= len(original)
        if i:
            assert s >= norm.starts[i - 1] and e >= norm.ends[i - 1]
    if norm.text:
        # the whole normalised text comes from the original minus surrounding junk
        s, e = norm.to_original(0, len(norm.text))
        assert normalize(original[s:e]).text == norm.text


def test_original_is_kept() -> None:
    norm = normalize("三號樓 路燈壞了😭")
    assert norm.original == "三號樓 路燈壞了😭"
    assert norm == Normalized(norm.original, "3号楼 路灯坏了", norm.starts, norm.ends)


def test_whole_text_and_empty_spans() -> None:
    norm = normalize("  在吗？ ")
    assert norm.text == "在吗?"
    assert norm.to_original(0, 3) == (2, 5)
    assert norm.to_original(1, 1) == (3, 3)
    assert norm.to_original(3, 3) == (5, 5)
    assert normalize("").to_original(0, 0) == (0, 0)


@pytest.mark.parametrize(("start", "end"), [(-1, 2), (2, 1), (0, 5), (4, 4)])
def test_bad_span_raises(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="outside text"):
        normalize("在吗?").to_original(start, end)


def test_map_entities_rewrites_offsets_and_value() -> None:
    norm = normalize("😭三號樓 路燈壞了，明天下午三點來修")
    assert norm.text == "3号楼 路灯坏了,明天下午3点来修"
    entities: list[dict[str, Any]] = [
        {"entity": "location", "value": "3号楼", "start": 0, "end": 3, "extractor": "DIET"},
        {
            "entity": "time",
            "value": "明天下午3点",
            "start": 9,
            "end": 15,
            "confidence_entity": 0.93,
        },
        {"entity": "relation", "value": "我爸"},
    ]
    mapped = map_entities(norm, entities)
    assert mapped == [
        {"entity": "location", "value": "三號樓", "start": 1, "end": 4, "extractor": "DIET"},
        {
            "entity": "time",
            "value": "明天下午三點",
            "start": 10,
            "end": 16,
            "confidence_entity": 0.93,
        },
        {"entity": "relation", "value": "我爸"},
    ]
    assert entities[0]["value"] == "3号楼"  # the input is not modified


def test_map_entities_empty() -> None:
    assert map_entities(normalize("在吗"), []) == []


class _LengthChangingConverter:
    """Stands in for an OpenCC dictionary entry whose output is longer than its input."""

    def convert(self, text: str) -> str:
        return text.replace("X", "YY")


def test_t2s_length_change_falls_back_per_character(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normalize_mod, "_converter", _LengthChangingConverter)
    norm = normalize("aXb路灯")
    assert norm.text == "aYYb路灯"
    assert norm.to_original(1, 3) == (1, 2)
    assert norm.to_original(2, 3) == (1, 2)
    assert norm.to_original(3, 6) == (2, 5)
