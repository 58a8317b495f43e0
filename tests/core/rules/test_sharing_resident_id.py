"""``core.rules.sharing.is_resident_id`` is ``stdnum.cn.ric.is_valid``, only faster (cached
places)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from core.rules.sharing import is_resident_id, mask_personal_text
from tests.support.credit import ID_LI, ID_ZHANG

DIVISIONS = ["110105", "330106", "999999", "110000", "350213", "000000", "440305"]


@given(
    division=st.sampled_from(DIVISIONS),
    year=st.integers(min_value=1880, max_value=2040),
    month=st.integers(min_value=0, max_value=13),
    day=st.integers(min_value=0, max_value=32),
    sequence=st.integers(min_value=0, max_value=999),
    check=st.sampled_from([None, *"0123456789Xx"]),
)
@settings(max_examples=400, deadline=None)
def test_same_answer_as_stdnum(
    division: str, year: int, month: int, day: int, sequence: int, check: str | None
) -> None:
    body = f"{division}{year:04d}{month:02d}{day:02d}{sequence:03d}"
    number = body + (check if check is not None else ric.calc_check_digit(body + "0"))
    assert is_resident_id(number) == ric.is_valid(number)


def test_masking_still_tells_ids_from_lookalikes() -> None:
    assert (
        mask_personal_text(f"身份证 {ID_ZHANG}") == f"身份证 {ID_ZHANG[:6]}********{ID_ZHANG[-4:]}"
    )
    assert ID_LI[:6] + "********" in mask_personal_text(ID_LI.lower())
    # A wrong check character is still masked while the digits read as a region and a birth
    # date (a mistyped id is a person's id all the same); a digit run that holds no birth date
    # is no one's id.
    wrong = ID_ZHANG[:-1] + ("1" if ID_ZHANG[-1] != "1" else "2")
    assert mask_personal_text(wrong) == f"{wrong[:6]}********{wrong[-4:]}"
    not_an_id = "123456" + "99999999" + "1234"
    assert mask_personal_text(not_an_id) == not_an_id
