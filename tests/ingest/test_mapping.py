"""A feed's ``MappingPlan`` (planned once per set of columns) maps every row as the mapping's
plain rules say, whatever columns each row has (no database)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ingest.mapping import MappingPlan, resolve_mapping, source_key_of

MAPPING = resolve_mapping(
    {
        "preset": "double_publicity_penalty",
        "fields": {"party_name": ["名称", "CF_XDR_MC"], "address": "地址"},
        "source_key": ["CF_XZCFJDSWH", "taxpayer_id+year"],
        "constants": {"authority_name": "北京市生态环境局", "status": "有效"},
    }
)
COLUMNS = [
    "名称",
    "CF_XDR_MC",
    "地址",
    "CF_XZCFJDSWH",
    "CF_WSH",
    "CF_CFJG",
    "CF_NR_FK",
    "taxpayer_id",
    "year",
    "party_name",
    "note",
    "id",
]


def reference_apply(row: Mapping[str, Any], mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The rules as documented: unmapped columns with a value pass through under their own
    name, a canonical field takes its first listed column with a value, constants fill what
    is left."""

    def present(value: Any) -> bool:
        return value is not None and not (isinstance(value, str) and value.strip() == "")

    mapped = {c for columns in mapping["fields"].values() for c in columns}
    result = {k: v for k, v in row.items() if k not in mapped and present(v)}
    for canonical, columns in mapping["fields"].items():
        for column in columns:
            if present(row.get(column)):
                result[canonical] = row[column]
                break
    for canonical, value in mapping["constants"].items():
        result.setdefault(canonical, value)
    return result


_rows = st.dictionaries(
    st.sampled_from(COLUMNS),
    st.one_of(
        st.none(),
        st.sampled_from(["", " ", "\u3000", "甲公司", " 乙公司 ", "2025", "京环罚〔2026〕1号"]),
        st.integers(min_value=0, max_value=3000),
        st.decimals(places=2, allow_nan=False),
    ),
)


@given(st.lists(_rows, max_size=6))
def test_a_plan_maps_each_row_as_the_rules_say(rows: list[dict[str, Any]]) -> None:
    plan = MappingPlan(MAPPING)  # one plan for rows of different columns, as in a JSON feed
    for row in rows:
        mapped = plan.apply(row)
        expected = reference_apply(row, MAPPING)
        assert mapped == expected
        assert list(mapped) == list(expected)  # same order of fields too
        assert plan.source_key(row) == source_key_of(row, MAPPING)


def test_the_first_column_with_a_value_wins_whatever_the_rows_before_had() -> None:
    plan = MappingPlan(MAPPING)
    assert plan.apply({"名称": "甲公司", "CF_XDR_MC": "乙公司"})["party_name"] == "甲公司"
    assert plan.apply({"名称": " ", "CF_XDR_MC": "乙公司"})["party_name"] == "乙公司"
    assert plan.apply({"CF_XDR_MC": "丙公司"})["party_name"] == "丙公司"
    assert "party_name" not in plan.apply({"名称": "", "CF_XDR_MC": None})
    assert plan.source_key({"taxpayer_id": "9111", "year": 2025}) == "9111+2025"
    assert plan.source_key({"taxpayer_id": "9111", "id": " 7 "}) == "7"
