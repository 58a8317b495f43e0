"""Weights learned from the data: EM recovers known m / u, u comes from random pairs, name
frequencies order the evidence, and a model survives a save / load round trip unchanged."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import date, timedelta

import pytest

from matching.match_model import MatchModel, default_model
from matching.model import MatchConfig, decide_pair, score_pair
from matching.records import MatchRecord, Prepared, prepare
from matching.term_frequencies import TermFrequencies, count_values
from matching.training import Key, TrainingOptions, Vector, random_vectors, run_em, train

# Valid USCCs of three different companies (the hard rule: never the same).
USCCS = ("91110108551385082Q", "91110108600037341D", "9135021359498494XQ")

# Two comparisons of three levels each, with known probabilities.
TRUE_M: dict[Key, float] = {
    ("name", "exact"): 0.7,
    ("name", "high"): 0.25,
    ("name", "different"): 0.05,
    ("address", "exact"): 0.6,
    ("address", "partial"): 0.3,
    ("address", "different"): 0.1,
    ("legal_rep", "exact"): 0.8,
    ("legal_rep", "different"): 0.2,
}
TRUE_U: dict[Key, float] = {
    ("name", "exact"): 0.01,
    ("name", "high"): 0.04,
    ("name", "different"): 0.95,
    ("address", "exact"): 0.02,
    ("address", "partial"): 0.08,
    ("address", "different"): 0.9,
    ("legal_rep", "exact"): 0.05,
    ("legal_rep", "different"): 0.95,
}


# Starting values far from the truth, but agreement likelier for matches (as the hand-set
# weights say): a start with m = u is a fixed point of EM and learns nothing.
START_M = {k: 0.5 if k[1] == "exact" else 0.25 for k in TRUE_M}
START_U = {k: 0.1 if k[1] != "different" else 0.8 for k in TRUE_M}


def _draw(rng: random.Random, table: str, probabilities: dict[Key, float]) -> Key:
    keys = [k for k in probabilities if k[0] == table]
    return rng.choices(keys, weights=[probabilities[k] for k in keys])[0]


def _vector(rng: random.Random, match: bool) -> tuple[Key, ...]:
    source = TRUE_M if match else TRUE_U
    return tuple(_draw(rng, table, source) for table in ("name", "address", "legal_rep"))


def _blocked(vector: tuple[Key, ...]) -> bool:
    """A blocking rule that is a function of the comparisons, as a shared key is: the names
    alike, or the addresses at least partly (99.5 % of the matches)."""
    name, address = vector[0][1], vector[1][1]
    return name != "different" or address != "different"


def test_em_recovers_known_m_u_and_prior_from_synthetic_vectors() -> None:
    rng = random.Random(3)
    match_rate = 0.02  # among all pairs
    everyone = 300_000
    drawn = [_vector(rng, rng.random() < match_rate) for _ in range(everyone)]
    # As train() sees them: the blocked pairs in full, the rest through a random sample,
    # each standing for (all pairs - blocked pairs) / sample pairs.
    blocked = [v for v in drawn if _blocked(v)]
    sample = [v for v in rng.sample(drawn, 30_000) if not _blocked(v)]
    weighted: Counter[Vector] = Counter(("company", v) for v in blocked)
    scale = (everyone - len(blocked)) / len(sample)
    vectors = {key: float(n) for key, n in weighted.items()}
    for v in sample:
        vectors[("company", v)] = vectors.get(("company", v), 0.0) + scale
    m, u, share, report = run_em(
        vectors,
        START_M,
        START_U,
        {"company": 0.5},
        max_iterations=500,
        tolerance=1e-8,
        floor=1e-4,
        u_floor=1e-6,
    )

    assert report["converged"] and report["iterations"] < 500
    assert share["company"] == pytest.approx(match_rate, rel=0.1)
    for key, expected in TRUE_M.items():
        assert m[key] == pytest.approx(expected, abs=0.02), key
    for key, expected in TRUE_U.items():
        assert u[key] == pytest.approx(expected, rel=0.1, abs=0.002), key


def test_em_stops_at_the_iteration_bound_and_says_it_did_not_converge() -> None:
    rng = random.Random(4)
    vectors: Counter[Vector] = Counter(
        ("company", _vector(rng, rng.random() < 0.3)) for _ in range(5_000)
    )
    _, _, _, report = run_em(
        vectors,
        START_M,
        START_U,
        {"company": 0.5},
        max_iterations=2,
        tolerance=1e-12,
        floor=1e-4,
        u_floor=1e-6,
    )
    assert report == {"iterations": 2, "converged": False, "max_change": report["max_change"]}
    assert report["max_change"] > 1e-12


def test_m_and_u_are_clamped_away_from_zero_and_one() -> None:
    # Matches always agree, non-matches never: EM would drive m and u to 0 and 1.
    tables = ("name", "address", "legal_rep")
    vectors = {
        ("company", tuple((t, "exact") for t in tables)): 100.0,
        ("company", tuple((t, "different") for t in tables)): 100_000.0,
    }
    m_start = {
        (t, lv): 0.6 if lv == "exact" else 0.4 for t in tables for lv in ("exact", "different")
    }
    u_start = {k: 1 - v for k, v in m_start.items()}
    m, u, share, _ = run_em(
        vectors,
        m_start,
        u_start,
        {"company": 0.01},
        max_iterations=100,
        tolerance=1e-9,
        floor=1e-4,
        u_floor=1e-6,
    )
    for table in tables:
        assert m[(table, "different")] == pytest.approx(1e-4)
        assert m[(table, "exact")] == pytest.approx(1 - 1e-4)
        assert u[(table, "exact")] == pytest.approx(1e-6)
        assert u[(table, "different")] == pytest.approx(1 - 1e-6)
    assert share["company"] == pytest.approx(100 / 100_100)


def company(i: int, name: str, address: str = "", code: str = "") -> MatchRecord:
    return MatchRecord(
        record_id=str(i),
        name=name,
        kind="legal_entity",
        address=address or None,
        codes=(code,) if code else (),
    )


def test_random_pairs_stand_for_the_pairs_blocking_does_not_compare() -> None:
    # Companies called 星河 or 远航 (each with an address of its own): random pairs of one name
    # share a blocking key, so only the pairs of different names are kept.
    records = [
        prepare(company(i, ("北京星河科技有限公司", "北京远航科技有限公司")[i % 2], f"海淀路{i}号"))
        for i in range(400)
    ]
    vectors, drawn, open_ = random_vectors(records, MatchConfig(), pairs=4000, rng=random.Random(1))
    assert drawn == open_ == 4000
    kept = sum(vectors.values())
    assert kept == pytest.approx(2000, rel=0.1)
    assert all(dict(keys)["name"] != "exact" for _, keys in vectors)
    # Missing levels carry no evidence: they are not in the vectors.
    assert all(level != "missing" for _, keys in vectors for _, level in keys)


def test_random_pairs_leave_out_what_a_hard_rule_decides() -> None:
    records = [prepare(company(i, f"公司{i}", code=uscc)) for i, uscc in enumerate(USCCS)]
    vectors, drawn, open_ = random_vectors(records, MatchConfig(), pairs=3, rng=random.Random(2))
    assert (drawn, open_, sum(vectors.values())) == (3, 0, 0)


def _persons(common: int) -> list[Prepared]:
    """``common`` different people called 李建国 (one birth date each), one 欧阳修远, and one
    person called 周一鸣 with many records (the same birth date)."""
    born = date(1970, 1, 1)
    rows = [("李建国", born + timedelta(days=i)) for i in range(common)]
    rows += [("欧阳修远", born)] + [("周一鸣", born)] * common
    return [
        prepare(MatchRecord(str(i), name=name, kind="natural_person", birth_date=day))
        for i, (name, day) in enumerate(rows)
    ]


def test_names_count_once_per_party_not_once_per_record() -> None:
    counts = count_values(_persons(12), "person")
    assert counts["李建国"] == 12
    assert counts["周一鸣"] == 1  # twelve records of one person
    assert counts["欧阳修远"] == 1


def test_agreement_on_a_rare_name_weighs_more_than_on_a_common_one() -> None:
    counts = count_values(_persons(12), "person")
    # Training pairs agreed on each name once: the centre is their mean log2 share.
    tf = TermFrequencies.from_counts(
        {"person": counts}, {"person": {"exact": Counter(counts)}}, min_count=5
    )
    rare = tf.adjustment("person", "exact", "欧阳修远")
    repeated = tf.adjustment("person", "exact", "周一鸣")
    common = tf.adjustment("person", "exact", "李建国")
    assert rare == repeated > 0 > common
    assert "李建国" in tf.frequencies["person"] and "欧阳修远" not in tf.frequencies["person"]

    config = MatchConfig(term_frequencies=tf)
    born = date(1970, 1, 1)

    def pair(name: str) -> float:
        a, b = (
            prepare(MatchRecord(r, name=name, kind="natural_person", birth_date=born))
            for r in ("a", "b")
        )
        return score_pair(a, b, config).total_weight

    assert pair("欧阳修远") > pair("李建国")
    assert pair("欧阳修远") - pair("李建国") == pytest.approx(rare - common)


def _companies(count: int, seed: int = 5) -> list[Prepared]:
    """``count`` companies of two records each (the second a name variant, often without its
    code or address), with a valid-looking trade name of three characters."""
    rng = random.Random(seed)
    chars = "星河远航鑫明泰飞昌达永太华信恒通光乐创新宏源金瑞天宇博雅"
    records = []
    for i in range(count):
        trade = "".join(rng.sample(chars, 3))
        address = f"北京市海淀区{rng.choice('东西南北')}街{i}号"
        records.append(company(2 * i, f"北京{trade}科技有限公司", address, f"X{i:06d}"))
        variant = f"{trade}科技（北京）有限公司"
        records.append(
            company(
                2 * i + 1,
                variant,
                address if rng.random() < 0.7 else "",
                f"X{i:06d}" if rng.random() < 0.5 else "",
            )
        )
    return [prepare(r) for r in records]


def test_training_learns_weights_and_is_deterministic() -> None:
    records = _companies(300)
    model = train(records)
    stats = model.training
    assert model.trained and stats["converged"]
    assert stats["trained_kinds"] == ["company"]
    assert stats["blocked_pairs"]["company"] >= 300
    # Agreement is evidence for, disagreement against; a missing field none at all.
    weights = model.weights
    assert weights["identifiers"]["exact"] > 5 > weights["identifiers"]["other_differs"]
    assert weights["name"]["exact"] > 0 > weights["name"]["different"]
    assert weights["address"]["missing"] == 0.0
    # Untrained tables keep the hand-set starting weights.
    assert "latin_postcode.exact" in stats["untrained_levels"]
    assert weights["latin_postcode"] == dict(MatchConfig().weights["latin_postcode"])
    assert model.priors["company"] < 0

    again = train(records)
    assert again.version == model.version
    assert train(records, options=TrainingOptions(seed=1)).version != model.version


def test_too_little_data_keeps_the_hand_set_weights() -> None:
    model = train(_companies(3))
    assert not model.trained
    assert model.version == default_model().version


def test_save_and_load_give_the_same_model_and_decisions() -> None:
    records = _companies(200)
    model = train(records)
    loaded = MatchModel.from_json(model.to_json())
    assert loaded.version == model.version
    assert loaded.content() == model.content()
    assert dict(loaded.training) == json.loads(model.to_json())["training"]
    before, after = model.config(), loaded.config()
    for a, b in zip(records[::2], records[1::2], strict=True):
        assert decide_pair(a, b, before) == decide_pair(a, b, after)
        assert score_pair(a, b, before).to_dict() == score_pair(a, b, after).to_dict()


def test_the_default_model_scores_as_the_hand_set_config() -> None:
    records = _companies(50)
    config = default_model().config()
    assert config == MatchConfig()
    assert default_model().version == default_model().version
    for a, b in zip(records[::2], records[1::2], strict=True):
        assert decide_pair(a, b, config) == decide_pair(a, b, MatchConfig())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["weights"]["name"].update(exact=30.0), "does not match its content"),
        (lambda d: d.update(format="other"), "not a model file"),
        (lambda d: d["weights"]["name"].update(exact="high"), "finite number"),
        (lambda d: d["parameters"]["name"].update(exact={"m": 1.5, "u": 0.1}), "between 0 and 1"),
        (lambda d: d["term_frequencies"].update(min_count=0), "positive integer"),
    ],
)
def test_a_changed_or_damaged_model_file_is_refused(change: object, message: str) -> None:
    document = json.loads(train(_companies(120)).to_json())
    change(document)  # type: ignore[operator]
    with pytest.raises(ValueError, match=message):
        MatchModel.from_json(json.dumps(document))


def test_text_that_is_not_a_model_is_refused() -> None:
    for text in ("", "[1, 2]", "{not json"):
        with pytest.raises(ValueError, match="not a model file"):
            MatchModel.from_json(text)
