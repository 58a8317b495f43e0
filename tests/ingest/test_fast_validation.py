"""The fast validation path reads every record it accepts exactly as the marshmallow schema
does, and leaves every other record (with its error messages) to the schema (no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, validates_schema

from core.models import RecordCategory
from ingest import records
from ingest.adapters.file_drop import FileDropSettings, fetch_batches
from ingest.catalogue import load_catalogue
from ingest.mapping import apply_mapping, resolve_mapping
from ingest.records import (
    _FAST,
    _SCHEMA_INSTANCES,
    PARTY_TYPES,
    FastLoader,
    load_record,
    validate_record,
)

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"

_DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d", "%Y-%m-%dT08:00:00"]
_dates = st.builds(
    lambda d, f: d.strftime(f),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
    st.sampled_from(_DATE_FORMATS),
)
_bad_dates = st.sampled_from(
    ["2026-13-01", "2026-02-30", "sometime", "２０２６-０３-０１", "0000-00-00"]
)
_amounts = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True, places=2).map(str),
    st.sampled_from(["1,500.00", "¥1500", "1500元", "１５００", "-5", "NaN", "abc", " 3 ", ""]),
    st.integers(min_value=-10, max_value=10**9),
    st.floats(allow_nan=True, allow_infinity=True),
)
_texts = st.one_of(
    st.text(alphabet=" \t\u3000abcXYZ01９（）()测试有限公司", max_size=12),
    st.text(max_size=8),
    st.sampled_from(["", " ", "\u3000", "Ａ", "A", "B", "M", "C", "D", "minor", "serious"]),
    # full-width forms that NFKC folds
    st.sampled_from(["ＡＢＣ１２３", "测试（北京）公司", " 星河\u3000科技 ", "２０２６年３月１日"]),
    st.sampled_from(sorted(PARTY_TYPES)),
    st.text(min_size=290, max_size=310, alphabet="名"),
)
_values = st.one_of(
    st.none(),
    _texts,
    _dates,
    _bad_dates,
    _amounts,
    st.integers(min_value=1980, max_value=2110),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)


def _records(category: RecordCategory) -> st.SearchStrategy[dict[str, Any]]:
    names = sorted(_SCHEMA_INSTANCES[category].load_fields)
    keys = st.sampled_from([*names, "unknown_column", "另一列"])
    return st.dictionaries(keys, _values, max_size=len(names) + 2)


def _slow(category: RecordCategory, data: dict[str, Any]) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = _SCHEMA_INSTANCES[category].load(data)
    except ValidationError:
        return None
    return loaded


@pytest.mark.parametrize("category", list(RecordCategory), ids=lambda c: c.value)
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_whatever_the_fast_path_accepts_reads_as_the_schema_does(
    category: RecordCategory, data: st.DataObject
) -> None:
    record = data.draw(_records(category))
    fast = _FAST[category].load(record)
    if fast is not None:
        slow = _slow(category, record)
        assert slow is not None, f"fast path accepted what the schema refuses: {record!r}"
        assert list(fast.items()) == list(slow.items())


@pytest.mark.parametrize("category", list(RecordCategory), ids=lambda c: c.value)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_records_the_schema_accepts_with_plain_text_are_taken_by_the_fast_path(
    category: RecordCategory, data: st.DataObject
) -> None:
    """The fast path is not a formality: a valid record of strings and dates is read fast."""
    record = data.draw(_records(category))
    plain = {k: v for k, v in record.items() if isinstance(v, str)}
    slow = _slow(category, plain)
    if slow is not None:
        assert _FAST[category].load(plain) == slow


def _sample_feed_records() -> list[tuple[RecordCategory, dict[str, Any]]]:
    """The canonical records of every file-drop feed of the demo catalogue, read by the
    feed's own adapter settings and mapping."""
    catalogue = load_catalogue(SAMPLE / "catalogue.toml")
    found = []
    for feed in catalogue.feeds:
        adapter = dict(feed["adapter"])
        if adapter.pop("kind") != "file_drop":
            continue
        adapter["path"] = str(catalogue.base_dir / adapter["path"])
        settings = FileDropSettings.from_settings(adapter, format=feed["format"])
        mapping = resolve_mapping(feed["field_mapping"] or {})
        for batch in fetch_batches(settings=settings, already_processed=lambda *_: False):
            for raw in batch.records:
                found.append((feed["record_category"], apply_mapping(raw.payload, mapping)))
    return found


def test_the_sample_feeds_validate_the_same_on_both_paths() -> None:
    """Every record of the demo's CSV feeds: same record, or the same error messages."""
    records = _sample_feed_records()
    assert len(records) > 100
    taken = 0
    for category, canonical in records:
        slow = _slow(category, canonical)
        fast = _FAST[category].load(canonical)
        taken += fast is not None
        if fast is not None:
            assert list(fast.items()) == list((slow or {}).items())
        else:
            with pytest.raises(ValidationError) as slow_error:
                _SCHEMA_INSTANCES[category].load(canonical)
            with pytest.raises(ValidationError) as error:
                validate_record(category, canonical)
            assert error.value.normalized_messages() == slow_error.value.normalized_messages()
    assert taken > len(records) // 2


def test_a_refused_record_gets_the_schemas_messages() -> None:
    canonical = {"party_name": " ", "decision_date": "2026-13-01", "fine_amount": "-5"}
    with pytest.raises(ValidationError) as error:
        load_record(RecordCategory.PENALTY, canonical)
    assert error.value.normalized_messages() == {
        "party_name": ["Field may not be blank."],
        "decision_date": ["Not a valid date: '2026-13-01'."],
        "fine_amount": ["Amount must not be negative: '-5'."],
        "decision_number": ["Missing data for required field."],
        "authority_name": ["Missing data for required field."],
    }


def test_schemas_with_hooks_it_does_not_reproduce_always_use_marshmallow() -> None:
    class WithOriginal(Schema):
        name = fields.String()

        @validates_schema(pass_original=True)
        def _check(self, data: dict[str, Any], original: dict[str, Any], **_: Any) -> None:
            if original.get("name") == "x":
                raise ValidationError("no x")

    loader = FastLoader(WithOriginal())
    assert not loader.enabled
    assert loader.load({"name": "ok"}) is None


@pytest.mark.parametrize("memo_size", [4096, 3], ids=["memo", "memo-full-often"])
def test_remembered_readings_belong_to_their_own_raw_value(
    memo_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cleaned texts and dates are remembered per field and raw value: each raw value still
    reads as the schema reads it, repeated or not, before and after a failing one, and when
    the memo fills up and starts again."""
    monkeypatch.setattr(records, "_MEMO_SIZE", memo_size)
    category = RecordCategory.PENALTY
    loader = FastLoader(_SCHEMA_INSTANCES[category])
    base = {
        "party_name": "甲公司",
        "decision_number": "1号",
        "decision_date": "2026-03-01",
        "authority_name": "局",
    }
    variants = [
        {"decision_date": "2026/3/1"},
        {"decision_date": "2026年3月2日"},
        {"decision_date": "2026-02-30"},
        {"decision_date": "20260301"},
        {"party_type": "01"},
        {"party_type": " 01 "},
        {"party_type": "bogus"},
        {"party_type": "０１"},
        {"party_name": "ＡＢＣ　公司"},
        {"party_name": "ABC 公司"},
        {"party_name": "名" * 301},
        {"severity": "serious"},
        # The same text in a field without a validator, then in one whose validator refuses it.
        {"violation_type": "grave"},
        {"severity": "grave"},
        {"authority_name": " "},
    ]
    for variant in variants * 3:
        record = {**base, **variant}
        fast = loader.load(record)
        slow = _slow(category, record)
        # Plain texts: the fast path takes exactly what the schema takes.
        assert (fast is None) is (slow is None), record
        assert fast is None or list(fast.items()) == list((slow or {}).items()), record
