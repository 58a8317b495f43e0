"""Property tests of ``matching.personal_numbers``: every way people write a resident id, a
mobile or a landline number in free text is found and masked, for analysts and for the public,
and the text around it is kept."""

from __future__ import annotations

import re
from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from matching.personal_numbers import MaskLevel, find_personal_numbers, mask_personal_numbers

WIDE = str.maketrans("0123456789Xx-", "０１２３４５６７８９Ｘｘ－")
REGIONS = ["110101", "110105", "330106", "440305", "510104"]
# Text people put around a number: nothing, letters, Chinese, punctuation.
AROUND = st.sampled_from(
    ["", " ", "ID", "id:", "身份证", "号", "，", "（", "）", "tel", "ext", "电话：", "x", "。"]
)


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    born = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 12, 31)))
    body = f"{region}{born:%Y%m%d}{draw(st.integers(1, 999)):03d}"
    return body + ric.calc_check_digit(body + "0")


@st.composite
def ids_15(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(REGIONS))
    born = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(1999, 12, 31)))
    return f"{region}{born:%y%m%d}{draw(st.integers(1, 999)):03d}"


mobiles = st.builds(
    lambda second, rest: f"1{second}{rest:09d}",
    st.sampled_from("3456789"),
    st.integers(0, 10**9 - 1),
)


def spaced(digits: str, groups: list[int], sep: str) -> str:
    parts, position = [], 0
    for size in groups:
        parts.append(digits[position : position + size])
        position += size
    parts.append(digits[position:])
    return sep.join(p for p in parts if p)


@st.composite
def written(draw: st.DrawFn, number: str, groups: list[int]) -> str:
    """``number`` as someone might type it: grouped with spaces or dashes, lower-case x,
    full-width."""
    text = number.lower() if draw(st.booleans()) else number
    sep = draw(st.sampled_from(["", " ", "-"]))
    text = spaced(text, groups, sep)
    return text.translate(WIDE) if draw(st.booleans()) else text


def digits_left(text: str) -> str:
    return re.sub(r"\D", "", text.translate(str.maketrans("０１２３４５６７８９", "0123456789")))


@given(resident_ids(), st.data(), AROUND, AROUND)
def test_every_way_of_writing_an_18_digit_id_is_masked(
    number: str, data: st.DataObject, before: str, after: str
) -> None:
    text = before + data.draw(written(number, [6, 8, 4])) + after
    partial = mask_personal_numbers(text)
    assert number[:6] + "********" + number[-4:] in partial.upper()
    assert number[6:14] not in digits_left(partial)  # the birth date is gone
    public = mask_personal_numbers(text, MaskLevel.PUBLIC)
    assert "*" * 18 in public and number[:6] not in digits_left(public)
    # the words around the number are kept as they were
    assert partial.startswith(before) or before.lower() in ("x",)
    assert mask_personal_numbers(text, MaskLevel.NONE) == text


@given(ids_15(), st.data(), AROUND, AROUND)
def test_old_15_digit_ids_are_masked(
    number: str, data: st.DataObject, before: str, after: str
) -> None:
    text = before + data.draw(written(number, [6, 6, 3])) + after
    assert number[6:12] not in digits_left(mask_personal_numbers(text))
    assert number[:6] not in digits_left(mask_personal_numbers(text, MaskLevel.PUBLIC))


@given(mobiles, st.sampled_from(["", "+86", "86", "0086", "+86 ", "+86-"]), st.data(), AROUND)
def test_every_way_of_writing_a_mobile_number_is_masked(
    number: str, prefix: str, data: st.DataObject, around: str
) -> None:
    body = data.draw(written(number, [3, 4, 4]))
    text = f"{around}{prefix.translate(WIDE) if data.draw(st.booleans()) else prefix}{body}{around}"
    shown = ("+86 " if prefix else "") + f"{number[:3]}****{number[-4:]}"
    for level in (MaskLevel.PARTIAL, MaskLevel.PUBLIC):
        assert mask_personal_numbers(text, level) == f"{around}{shown}{around}"


@given(
    st.sampled_from(["010", "021", "0571", "0755", "0512"]),
    st.integers(2_000_000, 99_999_999),
    st.sampled_from(["-", " ", ""]),
    st.booleans(),
    AROUND,
)
def test_landlines_keep_the_area_code_and_last_four_digits(
    area: str, local: int, sep: str, bracketed: bool, around: str
) -> None:
    head = f"({area})" if bracketed else area
    text = f"{around}{head}{sep}{local}{around}"
    digits = str(local)
    expected = f"{area}-{'*' * (len(digits) - 4)}{digits[-4:]}"
    assert mask_personal_numbers(text) == f"{around}{expected}{around}"


@given(st.lists(st.one_of(resident_ids(), mobiles), min_size=1, max_size=4), AROUND)
def test_several_numbers_in_one_text_are_all_found(numbers: list[str], glue: str) -> None:
    text = glue.join(f"第{i}人{n}" for i, n in enumerate(numbers))
    assert len(find_personal_numbers(text)) == len(numbers)


@given(st.text(alphabet="年月日元罚款第号条（）、 ", max_size=30), st.integers(0, 10**8))
def test_text_without_personal_numbers_is_left_alone(words: str, amount: int) -> None:
    # Amounts, dates and article numbers are not personal numbers.
    text = f"{words}罚款{amount}元，2023年10月11日，第{amount % 100}条"
    assert mask_personal_numbers(text) == text
    assert mask_personal_numbers(text, MaskLevel.PUBLIC) == text


def test_the_formats_from_issue_14() -> None:
    cases = {
        "+8613812345678": "+86 138****5678",
        "8613912345678": "+86 139****5678",
        "138-1234-5678": "138****5678",
        "139 1234 5678": "139****5678",
        "１３８１２３４５６７８": "138****5678",
        "ID110101196411122171": "ID110101********2171",
        "110101196411122171x": "110101********2171x",
        "身份证110101196411122171号": "身份证110101********2171号",
        "tel13712345678ext": "tel137****5678ext",
        "电话010-12345678": "电话010-****5678",
        "（0571）87654321": "0571-****4321",
    }
    for text, expected in cases.items():
        assert mask_personal_numbers(text) == expected, text


def test_an_id_hidden_behind_a_lookalike_run_is_still_masked() -> None:
    # From the year on, "2024 110101 19641112" is also an 18-digit run: reading that first
    # must not leave the real id (which starts later) in clear.
    masked = mask_personal_numbers("2024 110101 19641112 2171")
    assert "19641112" not in digits_left(masked)


def test_public_level_stars_out_already_masked_ids() -> None:
    text = "当事人110101********2171"
    assert mask_personal_numbers(text, MaskLevel.PUBLIC) == "当事人" + "*" * 18
    assert mask_personal_numbers(text) == text
