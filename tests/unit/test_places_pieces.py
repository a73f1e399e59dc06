"""Places as said (rule 8): pieces of an address the grammar missed or cut."""

from __future__ import annotations

import pytest

from nlu.places import find_place


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("住红旗街道团结路45号院2排3号 想要人上门理发", "红旗街道团结路45号院2排3号"),  # a row (排)
        ("不对 是2排5号", "2排5号"),
        ("我姥姥在城关镇西门村住 自己一个人", "城关镇西门村"),  # 西门村 is a name, not 西门
        ("我是城关镇西门村的 能去东关吉康之家做康复不", "城关镇西门村"),
        ("安康小区西门", "安康小区西门"),
    ],
)
def test_the_address_is_kept_whole(text: str, place: str) -> None:
    found = find_place(text)
    assert found is not None and found.text == place


@pytest.mark.parametrize(
    "text",
    ["对了 刚才路过她家门口闻到一股煤气味 敲门没人应", "那堆垃圾里还有碎玻璃 小孩路过容易扎着"],
)
def test_passing_by_is_no_road(text: str) -> None:
    found = find_place(text)
    assert found is None or "路" not in found.text
