"""Company names, person names and addresses, with the spellings real feeds carry."""

from __future__ import annotations

import pytest

from matching.normalise import (
    normalise_address,
    normalise_company_name,
    normalise_person_name,
    region_compatible,
    to_simplified,
)


@pytest.mark.parametrize(
    "name",
    [
        "北京星河科技有限公司",
        "北京市星河科技有限公司",
        "星河科技（北京）有限公司",
        "星河科技(北京)有限公司",
        "北京 星河科技有限公司\u3000",
    ],
)
def test_region_is_parsed_out_wherever_it_sits(name: str) -> None:
    parsed = normalise_company_name(name)
    assert parsed.core == "星河科技"
    assert parsed.trade == "星河"
    assert parsed.industry == "科技"
    assert parsed.region == "11"
    assert parsed.legal_form == "有限公司"
    assert not parsed.is_branch


def test_traditional_and_full_width_names_normalise_to_the_same_core() -> None:
    assert to_simplified("貿易") == "贸易"
    assert normalise_company_name("星河貿易（北京）有限公司").core == "星河贸易"
    assert normalise_company_name("ＡＢＣ科技有限公司").core == "ABC科技"


def test_longest_legal_form_wins() -> None:
    assert normalise_company_name("北京星河科技股份有限公司").legal_form == "股份有限公司"
    assert normalise_company_name("北京星河科技有限责任公司").legal_form == "有限责任公司"
    assert normalise_company_name("星河控股集团有限公司").legal_form == "集团有限公司"
    partnership = normalise_company_name("北京星河投资合伙企业（有限合伙）")
    assert partnership.core == "星河投资"
    assert partnership.legal_form.startswith("合伙企业")


def test_branch_marker_and_place_are_their_own_attributes() -> None:
    branch = normalise_company_name("北京星河科技有限公司上海分公司")
    assert branch.is_branch
    assert (branch.branch, branch.branch_place) == ("分公司", "上海")
    assert branch.core == "星河科技"
    numbered = normalise_company_name("北京星河科技有限公司朝阳第三分公司")
    assert numbered.branch_place == "朝阳第三"


def test_a_shop_called_men_shi_bu_is_not_a_branch() -> None:
    assert not normalise_company_name("北京市朝阳区张记五金门市部").is_branch
    assert normalise_company_name("北京星河科技有限公司海淀门市部").is_branch


def test_individual_business_keeps_its_district() -> None:
    shop = normalise_company_name("北京市朝阳区张记小吃店")
    assert shop.core == "张记小吃"
    assert shop.region == "110105"
    assert region_compatible(shop.region, normalise_company_name("北京张记小吃店").region)
    assert not region_compatible("110105", "31")


def test_person_names_drop_spaces_and_middle_dots() -> None:
    assert normalise_person_name(" 買買提·艾力 ") == "买买提艾力"
    assert normalise_person_name("張偉") == "张伟"
    assert normalise_person_name(None) == ""


def test_address_is_split_with_the_gazetteer() -> None:
    address = normalise_address("浙江省杭州市西湖区文三路5号")
    assert (address.province, address.city, address.district) == ("33", "3301", "330106")
    assert address.street == "文三路"
    assert address.rest == "5号"
    beijing = normalise_address("北京市朝阳区建國路８８號")
    assert beijing.district == "110105"
    assert beijing.street == "建国路"
    assert normalise_address("").full == ""


def test_empty_names_give_empty_parts() -> None:
    assert normalise_company_name("").core == ""
    assert normalise_company_name(None).region == ""


def test_readings_from_the_character_table_are_pypinyins_on_every_character() -> None:
    # The matcher reads pypinyin's table itself (importing pypinyin costs a second): it must
    # give exactly what pypinyin gives, tones dropped, ü as v, ê kept.
    import json
    from pathlib import Path

    import pypinyin

    from matching.normalise import _readings

    table = json.loads(
        (Path(pypinyin.__file__).parent / "pinyin_dict.json").read_text(encoding="utf-8")
    )
    characters = [*[chr(int(code)) for code in table][::3], "绿", "女", "欸", "誒", "长", "A"]
    for ch in characters:
        theirs = pypinyin.pinyin(ch, style=pypinyin.Style.NORMAL, heteronym=True)[0]
        ours = _readings(ch) or (ch,)
        assert list(ours) == theirs, ch
        assert ours[0] == pypinyin.lazy_pinyin(ch)[0], ch
