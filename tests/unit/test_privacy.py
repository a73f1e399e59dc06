"""mask_text, the one masking rule for residents' words: numbers in any typed form, nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.privacy import mask_text

MASKED = [
    ("电话13912345678，身份证220102198001011234", "电话139****5678，身份证220102********1234"),
    ("打我 138 1234 5678 谢谢", "打我 138****5678 谢谢"),
    ("打我138-1234-5678", "打我138****5678"),
    ("1381234 5678", "138****5678"),
    ("138 - 1234 - 5678", "138****5678"),
    ("+86 138 1234 5678", "+86 138****5678"),
    ("8613812345678", "86138****5678"),
    ("１３８１２３４５６７８", "１３８****５６７８"),  # full-width digits
    ("13812345678,13912345678", "138****5678,139****5678"),
    ("身份证 110101 19900101 123X", "身份证 110101********123X"),
    ("身份证110101-1990-0101-123x", "身份证110101********123x"),
    ("老身份证110101900101123", "老身份证110101*****1123"),
    ("卡号 6222 0212 3456 7890", "卡号 622202******7890"),
    ("卡号6222021234567890123", "卡号622202*********0123"),
    ("座机0431-1234567", "座机0431-****4567"),
    ("座机 010 12345678", "座机 010-****5678"),
]
KEPT = [
    "工单 1001 已派单",
    "东关中巷3号楼2单元301室",
    "2024-05-01 10:30 下午3点",
    "1301 1302 1303 1304 都停水了",  # room numbers, not a bank card
    "一共 120 元，编号 X1001",
    "138****5678",  # already masked
    "123456789012",  # twelve digits: no phone, no ID
]


@pytest.mark.parametrize(("typed", "shown"), MASKED)
def test_numbers_are_masked_however_they_are_typed(typed: str, shown: str) -> None:
    assert mask_text(typed) == shown


@pytest.mark.parametrize("text", KEPT)
def test_other_numbers_are_left_alone(text: str) -> None:
    assert mask_text(text) == text


WORDS = st.text(alphabet="路灯坏了电话是号楼，。 abc", max_size=12)
SEPARATORS = st.sampled_from(["", " ", "-", "  ", " - ", "－", "\u3000"])


@given(
    before=WORDS,
    after=WORDS,
    second=st.sampled_from("3456789"),
    middle=st.from_regex(r"\A[0-9]{9}\Z"),
    seps=st.tuples(SEPARATORS, SEPARATORS),
    prefix=st.sampled_from(["", "+86 ", "86", "+86-"]),
)
def test_no_mobile_number_survives(before, after, second, middle, seps, prefix) -> None:
    digits = f"1{second}{middle}"
    typed = f"{digits[:3]}{seps[0]}{digits[3:7]}{seps[1]}{digits[7:]}"
    shown = mask_text(f"{before}{prefix}{typed}{after}")
    assert digits not in shown and typed not in shown
    assert f"{digits[:3]}****{digits[7:]}" in shown


@given(
    region=st.from_regex(r"\A[1-9][0-9]{5}\Z"),
    birth=st.from_regex(r"\A(19|20)[0-9]{6}\Z"),
    tail=st.from_regex(r"\A[0-9]{3}[0-9X]\Z"),
    sep=SEPARATORS,
    before=WORDS,
)
def test_no_id_card_number_survives(region, birth, tail, sep, before) -> None:
    shown = mask_text(f"{before}身份证{region}{sep}{birth}{sep}{tail}。")
    assert birth not in shown and f"{region}********{tail}" in shown


@given(st.text(alphabet="0123456789 -+Xx８６１３路，", max_size=60))
def test_masking_twice_changes_nothing(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once) == once


def test_long_hostile_runs_stay_linear() -> None:
    """Patterns of bounded pieces only: a 64 KiB run of digits and separators is one pass."""
    for unit in ("1 ", "1-", "13 ", "0", "1", " ", "1381234 "):
        text = unit * (65536 // len(unit))
        assert len(mask_text(text)) <= len(text)
