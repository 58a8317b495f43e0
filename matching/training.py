"""Weights learned from the data being resolved (Fellegi-Sunter, trained as Splink does).

- **u** (how often a level occurs between two records that are *not* the same party) is
  counted on random pairs of records of the same kind: almost all random pairs are non-matches.
- **m** (how often it occurs between records of the same party) and the prior are estimated by
  expectation-maximisation over the comparison vectors of the blocked candidate pairs, with u
  held fixed. The hand-set weights of :mod:`matching.model` are only the starting values
  (``m = u * 2 ** weight``, normalised per comparison).
- The prior is the log2 odds that two random records match: ``lambda_b * blocked / all`` with
  ``lambda_b`` the EM's share of matches among blocked pairs. Scoring a blocked pair with the
  random-pair prior and random-pair u is right when blocking is a function of the comparison
  vector (a shared key shows as agreement), which is Splink's reasoning too.
- Names get a term-frequency adjustment (:mod:`matching.term_frequencies`) from the records
  being resolved.

Guards against a degenerate EM: a level never seen among blocked pairs keeps its starting
weight (reported in ``untrained_levels``), a kind of pair with too few blocked pairs keeps its
starting prior, m and u are clamped away from 0 and 1, the iterations are bounded and whether
the EM converged is reported. Pairs a hard rule decides (different valid USCCs or resident
ids, branch vs parent) are left out of both counts: the model never scores them.

Written by hand (no library does Fellegi-Sunter EM over our comparators without a SQL engine);
the EM runs over distinct comparison vectors with their counts, so an iteration costs the
number of distinct vectors, not of pairs.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from .blocking import BlockIndex
from .compare import COMPARATORS
from .match_model import MatchModel
from .model import MatchConfig, hard_rule, pair_group, quick_rule
from .records import Prepared
from .term_frequencies import TF_FIELD, TF_LEVELS, TermFrequencies, count_values

__all__ = ["GROUPS", "TrainingOptions", "comparison_vector", "estimate_u", "run_em", "train"]

GROUPS = ("company", "person", "latin_person")
# A side lacks the field: no evidence either way (weight 0, not trained), as in Splink. Left
# in, it learns how often feeds leave a field empty, which says nothing about the pair.
MISSING = "missing"
Key = tuple[str, str]  # (weight table, level)
Vector = tuple[str, tuple[Key, ...]]  # (kind of pair, one key per comparison)


@dataclass(frozen=True)
class TrainingOptions:
    """Sizes and guards of a training run (defaults keep 20,000 records to about a second)."""

    max_records: int = 200_000  # trained on a random subset beyond this (memory at 1M)
    max_pairs: int = 300_000  # blocked pairs the EM sees (a random sample beyond)
    random_pairs: int = 30_000  # random pairs per kind of pair, for u
    max_iterations: int = 60
    tolerance: float = 1e-5  # largest change of an m or a match share to stop at
    floor: float = 1e-4  # m lies in [floor, 1 - floor]; u in [1 / (2 n), 1 - 1 / (2 n)]
    min_pairs: int = 50  # fewer blocked pairs of a kind: its prior is not trained
    tf_min_count: int = 5
    tf_max_adjustment: float = 8.0
    seed: int = 20261203


def comparison_vector(a: Prepared, b: Prepared, config: MatchConfig) -> Vector | None:
    """The pair's kind and (weight table, level) of each comparison; None when a hard rule
    decides the pair (the model never weighs it)."""
    comparisons = tuple(compare(a, b) for compare in COMPARATORS)
    if hard_rule(comparisons, a, b) is not None:
        return None
    group = pair_group(a, b)
    person, latin = group != "company", group == "latin_person"
    return group, tuple((config.table_name(c.field, person, latin), c.level) for c in comparisons)


def _pools(records: Sequence[Prepared]) -> dict[str, list[Prepared]]:
    pools: dict[str, list[Prepared]] = {g: [] for g in GROUPS}
    for record in records:
        if not record.is_person:
            pools["company"].append(record)
        elif record.latin_tokens:
            pools["latin_person"].append(record)
        else:
            pools["person"].append(record)
    return pools


def estimate_u(
    pools: Mapping[str, Sequence[Prepared]],
    config: MatchConfig,
    *,
    pairs: int,
    rng: random.Random,
) -> tuple[dict[Key, float], dict[str, int], dict[str, int], dict[str, float]]:
    """How often each (table, level) occurs among random pairs within each kind (the u of
    that level, before the few true matches among random pairs are taken out by
    :func:`run_em`); the number of random pairs compared per table; the number drawn per
    kind; and per kind the share of random pairs no hard rule decides (the population the
    model scores). Missing levels are left out (see :data:`MISSING`)."""
    counts: Counter[Key] = Counter()
    per_table: Counter[str] = Counter()
    drawn: dict[str, int] = {}
    open_share: dict[str, float] = {}
    for group, pool in pools.items():
        if len(pool) < 2:
            continue
        wanted = min(pairs, len(pool) * (len(pool) - 1) // 2)
        scored = 0
        for _ in range(wanted):
            a, b = rng.sample(range(len(pool)), 2)
            left, right = pool[a], pool[b]
            vector = None if quick_rule(left, right) else comparison_vector(left, right, config)
            if vector is None:
                continue
            scored += 1
            for key in vector[1]:
                if key[1] != MISSING:
                    counts[key] += 1
                    per_table[key[0]] += 1
        drawn[group] = wanted
        open_share[group] = scored / wanted if wanted else 1.0
    frequencies = {key: n / per_table[key[0]] for key, n in counts.items()}
    return frequencies, dict(per_table), drawn, open_share


def _clamp(p: float, floor: float) -> float:
    return min(max(p, floor), 1.0 - floor)


def _blocked_vectors(
    records: Sequence[Prepared], config: MatchConfig, options: TrainingOptions, rng: random.Random
) -> tuple[Counter[Vector], Counter[str]]:
    """Distinct comparison vectors of the blocked candidate pairs (a random sample of
    ``max_pairs`` of them) with their counts, and every kind's number of blocked pairs that
    no hard rule decides."""
    index = BlockIndex(config.max_block_size, config.max_name_block_size)
    index.add(records)
    size = index.size
    sample: list[tuple[int, int]] = []
    seen = 0
    for code in index.pairs_for(range(size)):
        i, j = divmod(code, size)
        if quick_rule(records[i], records[j]) is not None:
            continue
        seen += 1
        if len(sample) < options.max_pairs:
            sample.append((i, j))
        else:  # reservoir sampling: every pair equally likely to be kept
            k = rng.randrange(seen)
            if k < options.max_pairs:
                sample[k] = (i, j)
    vectors: Counter[Vector] = Counter()
    for i, j in sample:
        vector = comparison_vector(records[i], records[j], config)
        if vector is not None:
            group, keys = vector
            vectors[(group, tuple(k for k in keys if k[1] != MISSING))] += 1
    scale = seen / len(sample) if sample else 1.0
    blocked: Counter[str] = Counter()
    for (group, _), n in vectors.items():
        blocked[group] += n
    return vectors, Counter({g: round(n * scale) for g, n in blocked.items()})


def _start_m(
    vectors: Mapping[Vector, int], u: Mapping[Key, float], config: MatchConfig, floor: float
) -> dict[Key, float]:
    """m from the starting weights (``u * 2 ** weight``), normalised per table."""
    keys = {key for _, keys in vectors for key in keys}
    raw = {k: u[k] * 2.0 ** config.weight(*k) for k in keys}
    totals: Counter[str] = Counter()
    for (table, _), value in raw.items():
        totals[table] += value
    return {k: _clamp(v / totals[k[0]], floor) for k, v in raw.items()}


def _logit2(p: float) -> float:
    return math.log2(p / (1.0 - p))


def run_em(
    vectors: Mapping[Vector, int],
    frequencies: Mapping[Key, float],
    random_counts: Mapping[str, int],
    m: Mapping[Key, float],
    base_share: Mapping[str, float],
    match_share: Mapping[str, float],
    *,
    max_iterations: int,
    tolerance: float,
    floor: float,
) -> tuple[dict[Key, float], dict[Key, float], dict[str, float], dict[str, Any]]:
    """EM for m and each kind's share of matches among blocked pairs.

    ``frequencies``: each level's share among random pairs (``random_counts`` pairs per
    table). A few random pairs are true matches; where a level is rare (the same name), they
    are a good part of its random share, so u is that share less the matches' part,
    ``(f - lambda * m) / (1 - lambda)``, worked out again each iteration. ``base_share``: a
    kind's blocked pairs / all its pairs, so a pair's prior is ``log2 odds(match_share *
    base_share)``. Returns m, u, the shares and ``{"iterations", "converged", "max_change"}``.
    """
    m = dict(m)
    share = dict(match_share)
    change = math.inf
    iterations = 0
    u = _u_without_matches(frequencies, random_counts, m, 0.0)
    while iterations < max_iterations and change >= tolerance:
        iterations += 1
        priors = {g: _logit2(_clamp(share[g] * base_share[g], 1e-15)) for g in share}
        mass: Counter[Key] = Counter()
        table_mass: Counter[str] = Counter()
        group_mass: Counter[str] = Counter()
        group_total: Counter[str] = Counter()
        log_ratio = {k: math.log2(m[k] / u[k]) for k in m}
        for (group, keys), n in vectors.items():
            score = priors[group] + sum(log_ratio[k] for k in keys)
            weight = n / (1.0 + 2.0 ** min(-score, 1000.0))
            group_mass[group] += weight
            group_total[group] += n
            for key in keys:
                mass[key] += weight
                table_mass[key[0]] += weight
        new_m = {
            k: _clamp(mass[k] / table_mass[k[0]], floor) if table_mass[k[0]] > 0 else m[k]
            for k in m
        }
        new_share = {g: _clamp(group_mass[g] / group_total[g], 1e-6) for g in share}
        change = max(
            max((abs(new_m[k] - m[k]) for k in m), default=0.0),
            max((abs(new_share[g] - share[g]) for g in share), default=0.0),
        )
        m, share = new_m, new_share
        matched = max((share[g] * base_share[g] for g in share), default=0.0)
        u = _u_without_matches(frequencies, random_counts, m, matched)
    report = {"iterations": iterations, "converged": change < tolerance, "max_change": change}
    return m, u, share, report


def _u_without_matches(
    frequencies: Mapping[Key, float],
    random_counts: Mapping[str, int],
    m: Mapping[Key, float],
    matched: float,
) -> dict[Key, float]:
    """u of every key of ``m``: its random share less the part of the random pairs that match
    (``matched``), clamped to ``[1 / (2 n), 1 - 1 / (2 n)]`` for n random pairs."""
    u = {}
    for key, m_value in m.items():
        floor = 0.5 / max(1, random_counts.get(key[0], 0))
        raw = (frequencies.get(key, 0.0) - matched * m_value) / (1.0 - matched)
        u[key] = _clamp(raw, floor)
    return u


def _sig(x: float) -> float:
    return float(f"{x:.6g}")


def train(
    records: Sequence[Prepared],
    *,
    start: MatchConfig | None = None,
    options: TrainingOptions | None = None,
) -> MatchModel:
    """A model trained on ``records`` (prepared once by the caller), starting from ``start``'s
    weights and prior. Deterministic for the same records and options. Raises nothing on
    small or odd data: what cannot be trained keeps its starting value and is reported."""
    started = time.perf_counter()
    start = start or MatchConfig()
    options = options or TrainingOptions()
    rng = random.Random(options.seed)
    subset = records
    if len(records) > options.max_records:
        subset = [records[i] for i in sorted(rng.sample(range(len(records)), options.max_records))]
    pools = _pools(subset)
    frequencies, random_counts, drawn, open_share = estimate_u(
        pools, start, pairs=options.random_pairs, rng=rng
    )
    vectors, blocked = _blocked_vectors(subset, start, options, rng)
    groups = [
        g for g in GROUPS if blocked[g] >= options.min_pairs and drawn.get(g) and len(pools[g]) >= 2
    ]
    vectors = Counter({v: n for v, n in vectors.items() if v[0] in groups})
    all_pairs = {g: len(pools[g]) * (len(pools[g]) - 1) / 2 * open_share[g] for g in groups}
    base_share = {g: min(1.0, blocked[g] / max(all_pairs[g], 1.0)) for g in groups}
    start_share = {g: _clamp(_prob(start.prior_for(g)) / base_share[g], 0.01) for g in groups}
    start_u = _u_without_matches(
        frequencies, random_counts, {k: 0.5 for _, keys in vectors for k in keys}, 0.0
    )
    m, u, share, report = run_em(
        vectors,
        frequencies,
        random_counts,
        _start_m(vectors, start_u, start, options.floor),
        base_share,
        start_share,
        max_iterations=options.max_iterations,
        tolerance=options.tolerance,
        floor=options.floor,
    )
    weights, parameters, untrained = _tables(start, m, u)
    priors = {"default": start.prior}
    priors.update({g: round(_logit2(_clamp(share[g] * base_share[g], 1e-15)), 4) for g in groups})
    # Name shares from every record being resolved, not only the training subset.
    tf = _term_frequencies(_pools(records), start, parameters, options)
    training = {
        "records": {g: len(pools[g]) for g in GROUPS},
        "records_given": len(records),
        "blocked_pairs": dict(blocked),
        "pairs_used": sum(vectors.values()),
        "distinct_vectors": len(vectors),
        "random_pairs": drawn,
        "trained_kinds": groups,
        "match_share_of_blocked_pairs": {g: round(share[g], 6) for g in groups},
        **report,
        "untrained_levels": untrained,
        "options": asdict(options),
        "seconds": round(time.perf_counter() - started, 3),
    }
    return MatchModel(
        weights=MappingProxyType(weights),
        priors=MappingProxyType(priors),
        parameters=MappingProxyType(parameters),
        term_frequencies=tf,
        training=MappingProxyType(training),
    )


def _prob(log_odds: float) -> float:
    return 1.0 / (1.0 + math.pow(2.0, -log_odds))


def _tables(
    start: MatchConfig, m: Mapping[Key, float], u: Mapping[Key, float]
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Weights (trained levels ``log2(m / u)``, the others their starting weight), the m / u
    of the trained levels, and the names of the untrained ones."""
    weights: dict[str, dict[str, float]] = {t: dict(v) for t, v in start.weights.items()}
    parameters: dict[str, dict[str, dict[str, float]]] = {}
    for (table, level), m_value in sorted(m.items()):
        mu = {"m": _sig(m_value), "u": _sig(u[(table, level)])}
        parameters.setdefault(table, {})[level] = mu
        weights.setdefault(table, {})[level] = round(math.log2(mu["m"] / mu["u"]), 3)
    untrained = sorted(
        f"{t}.{lv}"
        for t, levels in start.weights.items()
        for lv in levels
        if (t, lv) not in m and lv != MISSING
    )
    return weights, parameters, untrained


def _term_frequencies(
    pools: Mapping[str, Sequence[Prepared]],
    start: MatchConfig,
    parameters: Mapping[str, Mapping[str, Mapping[str, float]]],
    options: TrainingOptions,
) -> TermFrequencies | None:
    """Name shares per kind, with the u of the adjusted name levels (trained kinds only)."""
    counts = {}
    u: dict[str, dict[str, float]] = {}
    for group, pool in pools.items():
        table = start.table_name(TF_FIELD, group != "company", group == "latin_person")
        levels = {lv: mu["u"] for lv, mu in parameters.get(table, {}).items() if lv in TF_LEVELS}
        if pool and levels:
            counts[group] = count_values(pool, group)
            u[group] = levels
    if not counts:
        return None
    return TermFrequencies.from_counts(
        counts, u, min_count=options.tf_min_count, max_adjustment=options.tf_max_adjustment
    )
