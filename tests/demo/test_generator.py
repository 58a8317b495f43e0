"""The synthetic feed generator: layouts, encodings, ground truth, validity and noise."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from stdnum.cn import ric, uscc

from cli.sample import sample_group
from demo import vocab
from demo.feeds import (
    AS_OF,
    COURT_FIELDS,
    CUSTOMS_COLUMNS,
    FEED_COURT,
    FEED_CUSTOMS,
    FEED_HRSS,
    FEED_PENALTIES,
    FEED_REGISTRY,
    FEED_TAX,
    FEEDS,
    HRSS_COLUMNS,
    PENALTY_COLUMNS,
    REGISTRY_COLUMNS,
    TAX_FIELDS,
)
from demo.generator import GenerationSummary, generate_feeds
from demo.noise import to_traditional
from demo.population import EntityKind, SyntheticEntity, iter_entities
from matching.identifier_types import clean_code
from matching.org_codes import validate_org_code, validate_registration_number, validate_uscc
from matching.resident_ids import masked_id_compatible, validate_masked_id, validate_resident_id

ENTITIES = 600

EXPECTED_FILES = [
    "drops/samr-registry/registry_20260331.csv",
    "drops/tax-credit-grades/grades_2024.jsonl",
    "drops/tax-credit-grades/grades_2025.jsonl",
    *(f"drops/env-penalties/penalties_{m}.csv" for m in ("202510", "202511", "202512")),
    *(f"drops/env-penalties/penalties_{m}.csv" for m in ("202601", "202602", "202603")),
    "drops/customs-credit/customs_credit_202603.xlsx",
    "http/court-dishonest-debtors.jsonl",
    "exchange/hrss.sqlite3",
    "ground_truth.csv",
]


# --------------------------------------------------------------------------- readers

Record = dict[str, object]


def read_registry(out: Path) -> list[Record]:
    (path,) = (out / "drops/samr-registry").glob("registry_*.csv")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def read_tax(out: Path) -> list[Record]:
    records: list[Record] = []
    for path in sorted((out / "drops/tax-credit-grades").glob("grades_*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            records.extend(json.loads(line) for line in handle)
    return records


def read_penalties(out: Path) -> list[Record]:
    records: list[Record] = []
    for path in sorted((out / "drops/env-penalties").glob("penalties_*.csv")):
        with path.open(encoding="gbk", newline="") as handle:
            records.extend(csv.DictReader(handle))
    return records


def read_customs(out: Path) -> list[Record]:
    (path,) = (out / "drops/customs-credit").glob("customs_credit_*.xlsx")
    workbook = load_workbook(path, read_only=True)
    try:
        rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def read_court(out: Path) -> list[Record]:
    with (out / "http/court-dishonest-debtors.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def read_hrss(out: Path) -> list[Record]:
    connection = sqlite3.connect(out / "exchange/hrss.sqlite3")
    try:
        connection.row_factory = sqlite3.Row
        rows = connection.execute("SELECT * FROM arrears_blacklist ORDER BY seq_id").fetchall()
        return [dict(row) for row in rows]
    finally:
        connection.close()


def read_truth(out: Path) -> list[dict[str, str]]:
    with (out / "ground_truth.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def source_keys(out: Path) -> dict[str, list[str]]:
    """Each feed's records' source keys, computed the way the catalogue says."""
    return {
        FEED_REGISTRY: [str(r["reg_id"]) for r in read_registry(out)],
        FEED_TAX: [f"{r['taxpayer_id']}+{r['year']}" for r in read_tax(out)],
        FEED_PENALTIES: [str(r["CF_XZCFJDSWH"]) for r in read_penalties(out)],
        FEED_CUSTOMS: [str(r["海关编码"]) for r in read_customs(out)],
        FEED_COURT: [str(r["case_number"]) for r in read_court(out)],
        FEED_HRSS: [str(r["seq_id"]) for r in read_hrss(out)],
    }


def party_codes(out: Path) -> Iterator[tuple[str, str, str]]:
    """(feed, source key, code) for every USCC-column value in every feed."""
    for r in read_registry(out):
        yield FEED_REGISTRY, str(r["reg_id"]), str(r["uscc"])
    for r in read_tax(out):
        yield FEED_TAX, f"{r['taxpayer_id']}+{r['year']}", str(r["taxpayer_id"])
    for r in read_penalties(out):
        yield FEED_PENALTIES, str(r["CF_XZCFJDSWH"]), str(r["CF_XDR_SHXYM"])
    for r in read_customs(out):
        yield FEED_CUSTOMS, str(r["海关编码"]), str(r["统一社会信用代码"] or "")
    for r in read_court(out):
        if r["party_type"] != "自然人":
            yield FEED_COURT, str(r["case_number"]), str(r["id_number"])
    for r in read_hrss(out):
        yield FEED_HRSS, str(r["seq_id"]), str(r["uscc"] or "")


def all_names(out: Path) -> list[str]:
    return (
        [str(r["name"]) for r in read_registry(out)]
        + [str(r["taxpayer_name"]) for r in read_tax(out)]
        + [str(r["CF_XDR_MC"]) for r in read_penalties(out)]
        + [str(r["企业名称"]) for r in read_customs(out)]
        + [str(r["name"]) for r in read_court(out)]
        + [str(r["party_name"]) for r in read_hrss(out)]
    )


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("feeds")
    return out, generate_feeds(entities=ENTITIES, out_dir=out, seed=7)


@pytest.fixture(scope="module")
def population() -> dict[str, SyntheticEntity]:
    return {entity.key: entity for entity in iter_entities(ENTITIES, seed=7)}


@pytest.fixture(scope="module")
def truth_by_key(generated: tuple[Path, GenerationSummary]) -> dict[tuple[str, str], str]:
    out, _ = generated
    return {(row["feed"], row["source_key"]): row["entity_key"] for row in read_truth(out)}


# --------------------------------------------------------------------------- layout


def test_every_file_of_the_layout_is_written(generated: tuple[Path, GenerationSummary]) -> None:
    out, summary = generated
    for relative in EXPECTED_FILES:
        assert (out / relative).is_file(), relative
    written = {path for paths in summary.files.values() for path in paths}
    assert written | {summary.ground_truth} == {out / relative for relative in EXPECTED_FILES}
    assert set(summary.records) == set(FEEDS)
    assert all(count > 0 for count in summary.records.values())


def test_registry_is_utf8_with_bom_and_exact_header(
    generated: tuple[Path, GenerationSummary],
) -> None:
    out, summary = generated
    raw = (out / "drops/samr-registry/registry_20260331.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + ",".join(REGISTRY_COLUMNS).encode() + b"\r\n")
    rows = read_registry(out)
    assert len(rows) == summary.records[FEED_REGISTRY]
    assert len({r["reg_id"] for r in rows}) == len(rows)
    assert all(re.fullmatch(r"SAMR-\d{6}", str(r["reg_id"])) for r in rows)
    assert all(date.fromisoformat(str(r["established"])) <= AS_OF for r in rows)


def test_tax_grades_are_json_lines_with_the_fields(
    generated: tuple[Path, GenerationSummary],
) -> None:
    out, _ = generated
    for year in (2024, 2025):
        path = out / f"drops/tax-credit-grades/grades_{year}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            assert tuple(record) == TAX_FIELDS
            assert record["year"] == year
            assert record["grade"] in {"A", "B", "M", "C", "D"}
            assert date.fromisoformat(record["evaluated_on"]) <= AS_OF


def test_penalties_are_gbk_with_the_double_publicity_header(
    generated: tuple[Path, GenerationSummary],
) -> None:
    out, _ = generated
    for path in sorted((out / "drops/env-penalties").glob("*.csv")):
        raw = path.read_bytes()
        lines = raw.decode("gbk").split("\r\n")
        assert lines[0] == ",".join(PENALTY_COLUMNS)
        assert len(lines) > 2, f"{path.name} has no records"
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    rows = read_penalties(out)
    numbers = [r["CF_XZCFJDSWH"] for r in rows]
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"京环罚〔20\d\d〕\d+号", str(n)) for n in numbers)
    assert {r["CF_XDR_LB"] for r in rows} == {"法人及非法人组织", "个体工商户", "自然人"}
    for row in rows:
        decided = date.fromisoformat(str(row["CF_JDRQ"]))
        assert decided <= AS_OF
        assert date.fromisoformat(str(row["CF_GSJZQ"])) > decided
        if row["CF_CFLB"] == "罚款":
            assert re.fullmatch(r"\d+\.\d{6}", str(row["CF_NR_FK"]))
        else:
            assert row["CF_NR_FK"] == ""


def test_penalty_files_hold_the_month_they_are_named_after(
    generated: tuple[Path, GenerationSummary],
) -> None:
    out, _ = generated
    for path in sorted((out / "drops/env-penalties").glob("penalties_*.csv")):
        month = path.stem.removeprefix("penalties_")
        with path.open(encoding="gbk", newline="") as handle:
            for row in csv.DictReader(handle):
                assert row["CF_JDRQ"].replace("-", "")[:6] == month


def test_customs_workbook_has_header_dates_and_unique_codes(
    generated: tuple[Path, GenerationSummary],
) -> None:
    out, summary = generated
    workbook = load_workbook(out / "drops/customs-credit/customs_credit_202603.xlsx")
    try:
        assert len(workbook.worksheets) == 1
        sheet = workbook.worksheets[0]
        header = next(sheet.iter_rows(max_row=1, values_only=True))
        assert header == CUSTOMS_COLUMNS
        second = sheet.cell(row=2, column=5)
        assert second.is_date
    finally:
        workbook.close()
    rows = read_customs(out)
    assert len(rows) == summary.records[FEED_CUSTOMS]
    codes = [r["海关编码"] for r in rows]
    assert all(isinstance(c, str) and re.fullmatch(r"\d{10}", c) for c in codes)
    assert len(set(codes)) == len(codes)
    assert all(isinstance(r["认定日期"], datetime) for r in rows)
    assert {r["信用等级"] for r in rows} <= {"高级认证企业", "其他注册登记和备案企业", "失信企业"}


def test_court_records_have_the_fields_and_formats(
    generated: tuple[Path, GenerationSummary],
) -> None:
    out, _ = generated
    records = read_court(out)
    for record in records:
        assert tuple(record) == COURT_FIELDS
        assert record["party_type"] in {"自然人", "法人或其他组织"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(record["updated_at"]))
        listed = date.fromisoformat(str(record["listed_on"]))
        assert listed <= AS_OF
        if record["removed_on"] is not None:
            assert listed < date.fromisoformat(str(record["removed_on"])) <= AS_OF
        assert re.fullmatch(r"（20\d\d）\w\d{4}执\d+号", str(record["case_number"]))
    assert len({r["case_number"] for r in records}) == len(records)


def test_hrss_table_has_the_columns(generated: tuple[Path, GenerationSummary]) -> None:
    out, summary = generated
    connection = sqlite3.connect(out / "exchange/hrss.sqlite3")
    try:
        info = connection.execute("PRAGMA table_info(arrears_blacklist)").fetchall()
    finally:
        connection.close()
    assert tuple(column[1] for column in info) == HRSS_COLUMNS
    assert [column[2] for column in info] == ["INTEGER"] + ["TEXT"] * 7
    rows = read_hrss(out)
    assert [r["seq_id"] for r in rows] == list(range(1, summary.records[FEED_HRSS] + 1))


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    first = generate_feeds(entities=250, out_dir=tmp_path / "a", seed=11)
    second = generate_feeds(entities=250, out_dir=tmp_path / "b", seed=11)
    assert first.records == second.records
    for relative in EXPECTED_FILES:
        assert (tmp_path / "a" / relative).read_bytes() == (
            tmp_path / "b" / relative
        ).read_bytes(), relative


def test_another_seed_gives_other_data(tmp_path: Path) -> None:
    generate_feeds(entities=250, out_dir=tmp_path / "a", seed=1)
    generate_feeds(entities=250, out_dir=tmp_path / "b", seed=2)
    assert read_truth(tmp_path / "a") != read_truth(tmp_path / "b")


def test_regenerating_into_the_same_folder_overwrites(tmp_path: Path) -> None:
    generate_feeds(entities=120, out_dir=tmp_path, seed=3)
    before = {rel: (tmp_path / rel).read_bytes() for rel in EXPECTED_FILES}
    generate_feeds(entities=120, out_dir=tmp_path, seed=3)
    assert before == {rel: (tmp_path / rel).read_bytes() for rel in EXPECTED_FILES}


def test_population_does_not_depend_on_the_feeds(generated: tuple[Path, GenerationSummary]) -> None:
    # The first entities of a larger population are the same entities.
    small = list(iter_entities(50, seed=7))
    large = list(iter_entities(ENTITIES, seed=7))[:50]
    assert small == large


def test_progress_reports_every_entity(tmp_path: Path) -> None:
    steps: list[int] = []
    generate_feeds(entities=5000, out_dir=tmp_path, progress=steps.append)
    assert sum(steps) == 5000
    assert len(steps) > 1


# --------------------------------------------------------------------------- ground truth


def test_ground_truth_covers_every_record_exactly_once(
    generated: tuple[Path, GenerationSummary],
) -> None:
    out, summary = generated
    truth = read_truth(out)
    assert list(truth[0]) == ["feed", "source_key", "entity_key"]
    pairs = [(row["feed"], row["source_key"]) for row in truth]
    assert len(set(pairs)) == len(pairs)
    from_files = {(feed, key) for feed, keys in source_keys(out).items() for key in keys}
    assert sum(len(keys) for keys in source_keys(out).values()) == len(from_files)
    assert set(pairs) == from_files
    assert Counter(row["feed"] for row in truth) == Counter(summary.records)
    assert len(truth) == summary.total_records


def test_every_entity_appears_in_one_to_five_records(
    generated: tuple[Path, GenerationSummary],
) -> None:
    out, _ = generated
    per_entity = Counter(row["entity_key"] for row in read_truth(out))
    assert set(per_entity) == {f"E{i:06d}" for i in range(1, ENTITIES + 1)}
    assert set(per_entity.values()) <= {1, 2, 3, 4, 5}
    # Spread over the feeds: plenty of entities are in more than one feed.
    feeds_per_entity = Counter(
        entity for entity, _ in {(r["entity_key"], r["feed"]) for r in read_truth(out)}
    )
    assert sum(1 for n in feeds_per_entity.values() if n > 1) > ENTITIES // 4


def test_companies_and_individual_businesses_are_each_in_the_registry_once(
    generated: tuple[Path, GenerationSummary], population: dict[str, SyntheticEntity]
) -> None:
    out, summary = generated
    registry = [r["entity_key"] for r in read_truth(out) if r["feed"] == FEED_REGISTRY]
    expected = {k for k, e in population.items() if e.kind is not EntityKind.NATURAL_PERSON}
    assert sorted(registry) == sorted(expected)
    assert summary.kinds["company"] + summary.kinds["individual_business"] == len(expected)


def test_valid_codes_in_any_feed_point_at_the_entity_that_owns_them(
    generated: tuple[Path, GenerationSummary],
    population: dict[str, SyntheticEntity],
    truth_by_key: dict[tuple[str, str], str],
) -> None:
    out, _ = generated
    checked = 0
    for feed, key, code in party_codes(out):
        entity = population[truth_by_key[(feed, key)]]
        cleaned = clean_code(code)
        if len(cleaned) == 18 and validate_uscc(cleaned).valid:
            assert cleaned == entity.uscc, (feed, key)
            checked += 1
        elif len(cleaned) == 15 and feed != FEED_REGISTRY:
            # The old taxpayer number: division + organization code of the same entity.
            assert entity.uscc is not None
            assert cleaned == entity.uscc[2:17]
        elif len(cleaned) == 9:
            assert cleaned == entity.org_code
    assert checked > 0


def test_registry_old_codes_belong_to_the_entity(
    generated: tuple[Path, GenerationSummary],
    population: dict[str, SyntheticEntity],
    truth_by_key: dict[tuple[str, str], str],
) -> None:
    out, _ = generated
    for row in read_registry(out):
        entity = population[truth_by_key[(FEED_REGISTRY, str(row["reg_id"]))]]
        if row["org_code"]:
            assert validate_org_code(str(row["org_code"])).valid
            assert clean_code(str(row["org_code"])) == entity.org_code
        if row["registration_number"]:
            assert validate_registration_number(str(row["registration_number"])).valid
            assert row["registration_number"] == entity.registration_number
        assert row["uscc"] or row["org_code"] or row["registration_number"]


# --------------------------------------------------------------------------- validity


def test_clean_identifiers_are_valid(population: dict[str, SyntheticEntity]) -> None:
    codes = [e.uscc for e in population.values() if e.uscc is not None]
    assert len(set(codes)) == len(codes)
    for entity in population.values():
        if entity.uscc is not None:
            assert uscc.is_valid(entity.uscc), entity
            assert validate_uscc(entity.uscc).valid, validate_uscc(entity.uscc).problem
            assert entity.org_code == entity.uscc[8:17]
            assert entity.uscc[2:8] == entity.district.code
            prefix = "92" if entity.kind is EntityKind.INDIVIDUAL_BUSINESS else "91"
            assert entity.uscc.startswith(prefix)
        if entity.registration_number is not None:
            assert validate_registration_number(entity.registration_number).valid
        if entity.kind is EntityKind.NATURAL_PERSON:
            assert entity.resident_id is not None
            assert ric.is_valid(entity.resident_id), entity.resident_id
            assert validate_resident_id(entity.resident_id).valid
        else:
            assert entity.legal_rep


def test_every_district_gives_valid_resident_ids_from_its_first_year() -> None:
    for district in (*vocab.BEIJING_DISTRICTS, *vocab.OTHER_DISTRICTS):
        for year in (district.since or 1955, 2004):
            body = f"{district.code}{year}0101123"
            assert ric.is_valid(body + ric.calc_check_digit(body + "0")), (district, year)


def test_kinds_and_branches(population: dict[str, SyntheticEntity]) -> None:
    kinds = Counter(e.kind for e in population.values())
    assert kinds[EntityKind.COMPANY] == ENTITIES * 75 // 100
    assert kinds[EntityKind.INDIVIDUAL_BUSINESS] == ENTITIES * 10 // 100
    assert kinds[EntityKind.NATURAL_PERSON] == ENTITIES * 15 // 100
    branches = [e for e in population.values() if e.is_branch]
    assert branches
    for branch in branches:
        parent = population[str(branch.parent_key)]
        assert branch.name.startswith(parent.name)
        assert branch.name.endswith("分公司")
        assert branch.uscc != parent.uscc
    names = [e.name for e in population.values() if e.kind is not EntityKind.NATURAL_PERSON]
    assert len(set(names)) == len(names)


def test_masked_ids_never_show_a_whole_number(
    generated: tuple[Path, GenerationSummary],
    population: dict[str, SyntheticEntity],
    truth_by_key: dict[tuple[str, str], str],
) -> None:
    out, _ = generated
    people = [r for r in read_court(out) if r["party_type"] == "自然人"]
    assert people
    shapes = Counter()
    for record in people:
        masked = str(record["id_number"])
        assert not re.search(r"\d{15}", masked)
        assert re.fullmatch(r"\d{6}\*{8}[\dX]{4}|\d{14}\*{4}", masked), masked
        shapes["birth" if masked.endswith("****") else "tail"] += 1
        assert validate_masked_id(masked).valid
        entity = population[truth_by_key[(FEED_COURT, str(record["case_number"]))]]
        assert masked_id_compatible(entity.resident_id, masked)
        assert record["legal_rep"] is None
    assert shapes["tail"] > shapes["birth"] > 0


def test_everything_in_the_gbk_feed_is_gbk() -> None:
    texts = [
        *vocab.BRAND_CHARS,
        *vocab.INDUSTRIES,
        *vocab.SURNAMES,
        *vocab.GIVEN_CHARS,
        *vocab.TRADITIONAL_CHARS.values(),
        *(t for _, t in vocab.TRADITIONAL_WORDS),
        *vocab.TYPOS.values(),
        *(v.act + v.basis for v in vocab.VIOLATIONS),
    ]
    for text in texts:
        text.encode("gbk")


# --------------------------------------------------------------------------- noise


def test_noise_is_present(generated: tuple[Path, GenerationSummary]) -> None:
    out, _ = generated
    names = all_names(out)
    # Only characters whose traditional form differs from the simplified one prove anything.
    traditional = {t for s, t in vocab.TRADITIONAL_CHARS.items() if s != t} | {
        tc for s, t in vocab.TRADITIONAL_WORDS for sc, tc in zip(s, t, strict=True) if sc != tc
    }
    assert traditional
    assert any(set(n) & traditional for n in names)
    assert to_traditional("北京星河贸易发展有限公司") == "北京星河貿易發展有限公司"
    codes = [code for _, _, code in party_codes(out)]
    assert any(any("\uff10" <= ch <= "\uff5a" for ch in code) for code in codes)
    assert any(code != code.upper() for code in codes)
    cleaned = [clean_code(code) for code in codes]
    bad_check = [c for c in cleaned if len(c) == 18 and not uscc.is_valid(c) and c[:17].isalnum()]
    assert bad_check
    assert any(len(c) == 15 for c in (clean_code(str(r["taxpayer_id"])) for r in read_tax(out)))
    assert any(not r["uscc"] and r["org_code"] for r in read_registry(out))
    assert any(not r["CF_XDR_SHXYM"] and r["CF_XDR_ZZJG"] for r in read_penalties(out))
    assert "" in codes
    # Region prefix with and without 市, and the region in brackets before the legal form.
    assert any(n.startswith("北京市") and n.endswith("公司") for n in names)
    assert any(n.startswith("北京") and not n.startswith("北京市") for n in names)
    assert any("（北京）" in n for n in names)


def test_noise_stays_a_minority(generated: tuple[Path, GenerationSummary]) -> None:
    out, _ = generated
    codes = [clean_code(code) for _, _, code in party_codes(out)]
    usccs = [c for c in codes if len(c) == 18]
    invalid = [c for c in usccs if not uscc.is_valid(c)]
    assert len(invalid) < 0.06 * len(usccs)
    names = all_names(out)
    assert sum(n != unicodedata.normalize("NFKC", n) for n in names) < 0.5 * len(names)


# --------------------------------------------------------------------------- scale


def test_five_thousand_entities_give_a_full_ground_truth(tmp_path: Path) -> None:
    # Generation speed belongs to the benchmarks (shared, noisy machines): here only that a
    # larger population comes out whole, every record with its true entity.
    summary = generate_feeds(entities=5000, out_dir=tmp_path)
    assert summary.total_records > 5000
    with (tmp_path / "ground_truth.csv").open(encoding="utf-8") as truth:
        assert sum(1 for _ in truth) - 1 == summary.total_records


def test_rejects_an_empty_population(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_feeds(entities=0, out_dir=tmp_path)


# --------------------------------------------------------------------------- command line


def test_cli_generate_prints_a_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        sample_group, ["generate", "--entities", "40", "--out", str(tmp_path), "--seed", "5"]
    )
    assert result.exit_code == 0, result.output
    for feed in FEEDS:
        assert feed in result.output
    assert (tmp_path / "ground_truth.csv").is_file()


@pytest.mark.parametrize("args", [[], ["generate"], ["serve-feed"]])
def test_cli_help(args: list[str]) -> None:
    result = CliRunner().invoke(sample_group, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_cli_generate_requires_its_options() -> None:
    result = CliRunner().invoke(sample_group, ["generate", "--entities", "10"])
    assert result.exit_code != 0
    assert "--out" in result.output


def test_shipped_demo_data_is_the_generators_output(tmp_path: Path) -> None:
    shipped = Path(__file__).resolve().parents[2] / "sample_data"
    generate_feeds(entities=300, out_dir=tmp_path, seed=7)
    for relative in EXPECTED_FILES:
        assert (shipped / relative).read_bytes() == (tmp_path / relative).read_bytes(), (
            f"sample_data/{relative} is stale: regenerate it with "
            "generate_feeds(entities=300, out_dir=Path('sample_data'), seed=7)"
        )
