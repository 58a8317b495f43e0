"""Field mappings, presets and record validation (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from core.models import RecordCategory, Severity
from core.rules.publicity import classify_severity, publicity_end
from ingest.mapping import MappingError, apply_mapping, resolve_mapping, source_key_of
from ingest.records import validate_record

LICENCE = {
    "XK_XDR_MC": "北京星河科技有限公司",
    "XK_XDR_LB": "02",
    "XK_XDR_SHXYM": "91110000600037341L",
    "XK_FRDB": "王五",
    "XK_XKWS": "食品经营许可决定书",
    "XK_WSH": "京食许〔2026〕8号",
    "XK_XKLB": "01",
    "XK_XKZS": "食品经营许可证",
    "XK_XKBH": "JY11101050000001",
    "XK_JDRQ": "2026/1/5",
    "XK_YXQZ": "2026年1月5日",
    "XK_YXQJZ": "20310104",
    "XK_XKJG": "北京市朝阳区市场监督管理局",
    "XK_XKJGDM": "1111000000013421XK",
}


def test_licensing_preset_maps_the_national_field_codes() -> None:
    mapping = resolve_mapping({"preset": "double_publicity_licensing"})
    canonical = apply_mapping(LICENCE, mapping)
    assert source_key_of(LICENCE, mapping) == "京食许〔2026〕8号"
    record = validate_record(RecordCategory.LICENSING, canonical)
    assert record["party_name"] == "北京星河科技有限公司"
    assert record["party_kind"] == "legal_person"
    assert record["decision_date"] == date(2026, 1, 5)
    assert record["valid_from"] == date(2026, 1, 5)
    assert record["valid_to"] == date(2031, 1, 4)
    assert record["certificate_number"] == "JY11101050000001"
    assert record["code_problems"] == {}


def test_explicit_fields_override_the_preset_and_unknown_presets_are_refused() -> None:
    mapping = resolve_mapping(
        {"preset": "double_publicity_penalty", "fields": {"party_name": ["名称", "CF_XDR_MC"]}}
    )
    assert (
        apply_mapping({"名称": "甲公司", "CF_XDR_MC": "乙公司"}, mapping)["party_name"] == "甲公司"
    )
    assert apply_mapping({"名称": " ", "CF_XDR_MC": "乙公司"}, mapping)["party_name"] == "乙公司"
    with pytest.raises(MappingError, match="unknown field-mapping preset"):
        resolve_mapping({"preset": "nonsense"})


def test_composite_source_keys() -> None:
    mapping = resolve_mapping({"source_key": "taxpayer_id+year"})
    assert source_key_of({"taxpayer_id": "9111", "year": 2025}, mapping) == "9111+2025"
    assert source_key_of({"taxpayer_id": "9111"}, mapping) is None


def test_invalid_codes_are_flagged_not_rejected() -> None:
    record = validate_record(
        RecordCategory.REGISTRY,
        {"party_name": "坏码公司", "uscc": "91110000600037341K", "id_number": "12345"},
    )
    assert "uscc" in record["code_problems"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"party_name": ""}, "party_name"),
        ({"decision_date": "sometime"}, "decision_date"),
        ({"fine_amount": "-5"}, "fine_amount"),
        ({"fine_amount": "NaN"}, "fine_amount"),
        ({"party_type": "09"}, "party_type"),
        ({"valid_from": "2026-02-01", "valid_to": "2026-01-01"}, "valid_to"),
    ],
)
def test_penalty_field_errors_name_the_field(overrides: dict[str, str], field: str) -> None:
    record = {
        "party_name": "甲公司",
        "decision_number": "1号",
        "decision_date": "2026-01-01",
        "authority_name": "局",
        **overrides,
    }
    with pytest.raises(ValidationError) as caught:
        validate_record(RecordCategory.PENALTY, record)
    assert field in caught.value.normalized_messages()


BASE_RECORDS = {
    RecordCategory.PENALTY: {
        "party_name": "甲公司",
        "decision_number": "1号",
        "decision_date": "2026-01-01",
        "authority_name": "局",
    },
    RecordCategory.LICENSING: {
        "party_name": "甲公司",
        "decision_number": "1号",
        "decision_date": "2026-01-01",
        "authority_name": "局",
    },
    RecordCategory.LIST_ENTRY: {"party_name": "甲", "list_name": "名单", "listed_on": "2026-01-01"},
    RecordCategory.CUSTOMS_RATING: {
        "party_name": "甲",
        "grade": "A",
        "decision_date": "2026-01-01",
    },
    RecordCategory.REGISTRY: {"party_name": "甲公司"},
}


@pytest.mark.parametrize(
    ("category", "field", "longest"),
    [
        (RecordCategory.PENALTY, "authority_name", 300),
        (RecordCategory.PENALTY, "authority_uscc", 18),
        (RecordCategory.PENALTY, "title", 500),
        (RecordCategory.PENALTY, "penalty_category", 64),
        (RecordCategory.PENALTY, "uscc", 64),
        (RecordCategory.PENALTY, "org_code", 64),
        (RecordCategory.PENALTY, "registration_number", 64),
        (RecordCategory.PENALTY, "taxpayer_number", 64),
        (RecordCategory.PENALTY, "code", 64),
        (RecordCategory.PENALTY, "id_number", 64),
        (RecordCategory.LICENSING, "license_type", 64),
        (RecordCategory.LICENSING, "certificate_name", 500),
        (RecordCategory.LIST_ENTRY, "list_name", 100),
        (RecordCategory.LIST_ENTRY, "authority_name", 300),
        (RecordCategory.CUSTOMS_RATING, "grade", 16),
        (RecordCategory.REGISTRY, "entity_type", 64),
    ],
)
def test_text_longer_than_its_column_is_a_field_error(
    category: RecordCategory, field: str, longest: int
) -> None:
    """PostgreSQL refuses a value longer than its column, and with it the whole batch: the
    record is quarantined instead, with the field named."""
    validate_record(category, {**BASE_RECORDS[category], field: "码" * longest})
    with pytest.raises(ValidationError) as caught:
        validate_record(category, {**BASE_RECORDS[category], field: "码" * (longest + 1)})
    assert caught.value.normalized_messages() == {field: [f"Longer than maximum length {longest}."]}


def test_amounts_stay_within_what_the_amount_columns_hold() -> None:
    """Amount columns hold 16 digits before the point; a feed in 万元 multiplies by 10,000."""
    penalty = BASE_RECORDS[RecordCategory.PENALTY]
    largest = validate_record(RecordCategory.PENALTY, {**penalty, "fine_amount": "999999999999.99"})
    assert largest["fine_amount"] == Decimal("999999999999.99")
    for too_large in ("1000000000000", "1e400", 1e308):
        with pytest.raises(ValidationError) as caught:
            validate_record(RecordCategory.PENALTY, {**penalty, "confiscated_amount": too_large})
        assert "confiscated_amount" in caught.value.normalized_messages()
    # An exponent no database reads (PostgreSQL: "value overflows numeric format") is a
    # fraction of a fen: refused, not rounded; trailing zeros are the same amount.
    with pytest.raises(ValidationError, match="finer than a fen"):
        validate_record(RecordCategory.PENALTY, {**penalty, "fine_amount": "1e-20000"})
    zeros = validate_record(RecordCategory.PENALTY, {**penalty, "fine_amount": "1.5" + "0" * 30})
    assert str(zeros["fine_amount"]) == "1.500000"


def test_amounts_and_dates_in_the_spellings_feeds_use() -> None:
    record = validate_record(
        RecordCategory.PENALTY,
        {
            "party_name": "ＡＢＣ　公司",
            "decision_number": "1号",
            "decision_date": "２０２６年３月１日",
            "authority_name": "局",
            "fine_amount": "1,500.50元",
        },
    )
    assert record["party_name"] == "ABC 公司"
    assert record["decision_date"] == date(2026, 3, 1)
    assert record["fine_amount"] == Decimal("1500.50")


@pytest.mark.parametrize(
    ("category", "record", "severity"),
    [
        (RecordCategory.PENALTY, {"penalty_category": "警告"}, Severity.MINOR),
        (RecordCategory.PENALTY, {"penalty_category": "罚款", "fine_amount": 1}, Severity.GENERAL),
        (RecordCategory.PENALTY, {"penalty_category": "吊销许可证"}, Severity.SERIOUS),
        (RecordCategory.PENALTY, {"license_action": "责令停产停业"}, Severity.SERIOUS),
        (RecordCategory.LIST_ENTRY, {}, Severity.SERIOUS),
        (RecordCategory.TAX_GRADE, {"grade": "D"}, Severity.SERIOUS),
        (RecordCategory.TAX_GRADE, {"grade": "A"}, None),
        (RecordCategory.CUSTOMS_RATING, {"grade": "失信企业"}, Severity.SERIOUS),
        (RecordCategory.LICENSING, {}, None),
    ],
)
def test_severity_rules(
    category: RecordCategory, record: dict[str, object], severity: Severity | None
) -> None:
    assert classify_severity(category, record) is severity


def test_publicity_ends_after_the_maximum_period() -> None:
    assert publicity_end(Severity.MINOR, date(2026, 11, 30)) == date(2027, 2, 28)
    assert publicity_end(Severity.GENERAL, date(2026, 3, 1)) == date(2027, 3, 1)
    assert publicity_end(Severity.SERIOUS, date(2024, 2, 29)) == date(2027, 2, 28)
    assert publicity_end(None, date(2026, 3, 1)) is None


def test_severity_and_publicity_answer_for_each_input_however_often_asked() -> None:
    """Both are cached by value: the same input twice, and inputs that differ in one part,
    each get their own answer."""
    penalty = RecordCategory.PENALTY
    cases = [
        ({"penalty_category": "警告"}, Severity.MINOR),
        ({"penalty_category": "警告", "fine_amount": Decimal("0.5")}, Severity.GENERAL),
        ({"penalty_category": "警告", "content": "吊销营业执照"}, Severity.SERIOUS),
        ({"penalty_category": "警告", "license_action": "降低资质等级"}, Severity.SERIOUS),
        ({"penalty_category": "警告、通报批评"}, Severity.MINOR),
        ({"penalty_category": "警告、罚款"}, Severity.GENERAL),
        ({}, Severity.GENERAL),
        ({"penalty_category": "警告", "severity": "serious"}, Severity.SERIOUS),
    ]
    for _ in range(2):
        for record, severity in cases:
            assert classify_severity(penalty, record) is severity, record
    start = date(2026, 3, 31)
    for _ in range(2):
        assert publicity_end(Severity.MINOR, start) == date(2026, 6, 30)
        assert publicity_end(Severity.GENERAL, start) == date(2027, 3, 31)
        assert publicity_end(Severity.SERIOUS, start) == date(2029, 3, 31)
        assert publicity_end(Severity.MINOR, date(2026, 4, 1)) == date(2026, 7, 1)


def test_code_problems_belong_to_each_code_and_column() -> None:
    """Code checks are remembered per column and code: a valid code seen before an invalid
    one (and the same code in another column) is still judged on its own."""
    base = {"party_name": "甲公司"}
    valid, mistyped = "91110000600037341L", "91110000600037341K"
    for _ in range(2):
        for uscc, flagged in ((valid, False), (mistyped, True), (valid, False)):
            record = validate_record(RecordCategory.REGISTRY, {**base, "uscc": uscc})
            assert ("uscc" in record["code_problems"]) is flagged
    # The org code column reads a USCC as a (much too long) organization code.
    record = validate_record(RecordCategory.REGISTRY, {**base, "org_code": valid})
    assert "org_code" in record["code_problems"]
    record = validate_record(RecordCategory.REGISTRY, {**base, "code": valid})
    assert record["code_problems"] == {}
