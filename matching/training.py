"""Weights learned from the data being resolved (Fellegi-Sunter, trained as Splink does).

The model: a pair of records is a match with probability ``lambda`` (per kind of pair); each
comparison's level is drawn from ``m`` (matches) or ``u`` (non-matches), independently. The
pairs the model scores are all pairs of a kind that no hard rule decides. Of those:

- the **blocked candidate pairs** (sharing a blocking key) are observed in full: they hold
  nearly every match, so they carry **m**;
- the rest are represented by **random pairs** (drawn within each kind, those sharing no key),
  each weighing for ``(all pairs - blocked pairs) / random pairs``: they are nearly all
  non-matches, so they carry **u**.

Expectation-maximisation over these weighted comparison vectors estimates m, u and lambda
together: the few matches among random pairs and the many non-matches among blocked ones are
each counted where they belong, and the prior is lambda itself (the log2 odds that two
records of the kind match). The hand-set weights of :mod:`matching.model` are only the
starting values (``m = u * 2 ** weight``, normalised per comparison). Names get a
term-frequency adjustment (:mod:`matching.term_frequencies`) from the records being resolved.

Guards against a degenerate EM: a level never observed keeps its starting weight (reported in
``untrained_levels``), "missing" levels carry no evidence (weight 0, as in Splink), a kind of
pair with too few blocked pairs keeps its starting prior, m and u are clamped away from 0 and
1, the iterations are bounded and whether the EM converged is reported. Pairs a hard rule
decides (different valid USCCs or resident ids, branch vs parent) are left out: the model never
scores them.

Written by hand (no library does Fellegi-Sunter EM over our comparators without a SQL engine);
the EM runs over distinct comparison vectors with their weights, so an iteration costs the
number of distinct vectors, not of pairs.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from .blocking import BlockIndex, blocking_keys
from .compare import COMPARATORS
from .match_model import MatchModel
from .model import MatchConfig, hard_rule, pair_group, quick_rule
from .records import Prepared
from .term_frequencies import TF_FIELD, TF_LEVELS, TermFrequencies, count_values, tf_value

__all__ = [
    "GROUPS",
    "TrainingOptions",
    "comparison_vector",
    "random_vectors",
    "run_em",
    "train",
]

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
    random_pairs: int = 15_000  # random pairs drawn per kind of pair
    max_iterations: int = 100
    tolerance: float = 1e-5  # largest change of an m, u or lambda to stop at
    floor: float = 1e-4  # m lies in [floor, 1 - floor]
    u_floor: float = 1e-6  # u lies in [u_floor, 1 - u_floor]
    min_pairs: int = 50  # fewer blocked pairs of a kind: it is not trained
    tf_min_count: int = 5
    tf_max_adjustment: float = 8.0
    seed: int = 20261203


def comparison_vector(a: Prepared, b: Prepared, config: MatchConfig) -> Vector | None:
    """The pair's kind and (weight table, level) of each comparison, missing levels left
    out; None when a hard rule decides the pair (the model never weighs it)."""
    if quick_rule(a, b) is not None:
        return None
    comparisons = tuple(compare(a, b) for compare in COMPARATORS)
    if hard_rule(comparisons, a, b) is not None:
        return None
    group = pair_group(a, b)
    person, latin = group != "company", group == "latin_person"
    keys = tuple(
        (config.table_name(c.field, person, latin), c.level)
        for c in comparisons
        if c.level != MISSING
    )
    return group, keys


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


def _clamp(p: float, floor: float) -> float:
    return min(max(p, floor), 1.0 - floor)


def random_vectors(
    pool: Sequence[Prepared], config: MatchConfig, *, pairs: int, rng: random.Random
) -> tuple[Counter[Vector], int, int]:
    """Comparison vectors of ``pairs`` random pairs of ``pool`` that share no blocking key
    (the blocked ones are observed in full elsewhere) and no hard rule decides; with the
    number of pairs drawn and of those no hard rule decides."""
    vectors: Counter[Vector] = Counter()
    keys: dict[int, set[str]] = {}
    drawn = min(pairs, len(pool) * (len(pool) - 1) // 2)
    open_ = 0
    for _ in range(drawn):
        i, j = rng.sample(range(len(pool)), 2)
        if quick_rule(pool[i], pool[j]) is not None:
            continue
        open_ += 1
        for n in (i, j):
            if n not in keys:
                keys[n] = blocking_keys(pool[n])
        if keys[i] & keys[j]:
            continue  # a blocked pair: observed in full with the others
        vector = comparison_vector(pool[i], pool[j], config)
        if vector is not None:
            vectors[vector] += 1
    return vectors, drawn, open_


def _blocked_vectors(
    records: Sequence[Prepared],
    config: MatchConfig,
    options: TrainingOptions,
    rng: random.Random,
    agreed: Agreed,
) -> tuple[Counter[Vector], Counter[str]]:
    """Distinct vectors of the blocked candidate pairs no hard rule decides (a random sample
    of ``max_pairs`` of them) with their counts, and each kind's number of such pairs; the
    names the pairs agree on are noted in ``agreed``."""
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
            vectors[vector] += 1
            _note_agreed(agreed, vector, records[i], config)
    scale = seen / len(sample) if sample else 1.0
    blocked: Counter[str] = Counter()
    for (group, _), n in vectors.items():
        blocked[group] += n
    return vectors, Counter({g: round(n * scale) for g, n in blocked.items()})


Agreed = dict[str, dict[str, Counter[str]]]  # kind -> name level -> value -> pairs


def _note_agreed(agreed: Agreed, vector: Vector, record: Prepared, config: MatchConfig) -> None:
    """Count the name a pair agrees on at a term-frequency level (both sides share it)."""
    group, keys = vector
    table = config.table_name(TF_FIELD, group != "company", group == "latin_person")
    for key_table, level in keys:
        if key_table == table and level in TF_LEVELS:
            value = tf_value(record, group)
            agreed.setdefault(group, {}).setdefault(level, Counter())[value] += 1


def _logit2(p: float) -> float:
    return math.log2(p / (1.0 - p))


def _normalised(values: Mapping[Key, float], floor: float) -> dict[Key, float]:
    totals: defaultdict[str, float] = defaultdict(float)
    for (table, _), value in values.items():
        totals[table] += value
    return {
        k: _clamp(v / totals[k[0]], floor) if totals[k[0]] else floor for k, v in values.items()
    }


def run_em(
    vectors: Mapping[Vector, float],
    m: Mapping[Key, float],
    u: Mapping[Key, float],
    share: Mapping[str, float],
    *,
    max_iterations: int,
    tolerance: float,
    floor: float,
    u_floor: float,
) -> tuple[dict[Key, float], dict[Key, float], dict[str, float], dict[str, Any]]:
    """Fellegi-Sunter EM over weighted comparison vectors: m, u and each kind's share of
    matches ``share`` from their starting values. Returns them with ``{"iterations",
    "converged", "max_change"}``; stops after ``max_iterations`` or once nothing changes by
    ``tolerance`` or more."""
    m, u, share = dict(m), dict(u), dict(share)
    change = math.inf
    iterations = 0
    while iterations < max_iterations and change >= tolerance:
        iterations += 1
        priors = {g: _logit2(share[g]) for g in share}
        log_ratio = {k: math.log2(m[k] / u[k]) for k in m}
        match_mass: defaultdict[Key, float] = defaultdict(float)
        other_mass: defaultdict[Key, float] = defaultdict(float)
        group_mass: defaultdict[str, float] = defaultdict(float)
        group_total: defaultdict[str, float] = defaultdict(float)
        for (group, keys), n in vectors.items():
            score = priors[group] + sum(log_ratio[k] for k in keys)
            matched = n / (1.0 + 2.0 ** min(-score, 1000.0))
            group_mass[group] += matched
            group_total[group] += n
            for key in keys:
                match_mass[key] += matched
                other_mass[key] += n - matched
        new_m = _normalised({k: match_mass[k] for k in m}, floor)
        new_u = _normalised({k: other_mass[k] for k in u}, u_floor)
        new_share = {g: _clamp(group_mass[g] / group_total[g], 1e-12) for g in share}
        change = max(
            max((abs(new_m[k] - m[k]) for k in m), default=0.0),
            max((abs(new_u[k] - u[k]) for k in u), default=0.0),
            max((abs(new_share[g] - share[g]) / share[g] for g in share), default=0.0),
        )
        m, u, share = new_m, new_u, new_share
    report = {"iterations": iterations, "converged": change < tolerance, "max_change": change}
    return m, u, share, report


def _start(
    vectors: Mapping[Vector, float], config: MatchConfig, options: TrainingOptions
) -> tuple[dict[Key, float], dict[Key, float]]:
    """Starting m and u: u the levels' shares among all the weighted vectors (nearly all
    non-matches), m ``u * 2 ** weight`` with the starting weights, both normalised."""
    counts: defaultdict[Key, float] = defaultdict(float)
    for (_, keys), n in vectors.items():
        for key in keys:
            counts[key] += n
    u = _normalised(dict(counts), options.u_floor)
    m = _normalised({k: u[k] * 2.0 ** config.weight(*k) for k in u}, options.floor)
    return m, u


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
    agreed: Agreed = {}
    vectors, blocked = _blocked_vectors(subset, start, options, rng, agreed)
    weighted: defaultdict[Vector, float] = defaultdict(float)
    drawn: dict[str, int] = {}
    groups = []
    for group in GROUPS:
        pool = pools[group]
        if blocked[group] < options.min_pairs or len(pool) < 2:
            continue
        sample, drawn[group], open_ = random_vectors(
            pool, start, pairs=options.random_pairs, rng=rng
        )
        # All pairs of the kind that no hard rule decides, as the random pairs show it.
        open_pairs = len(pool) * (len(pool) - 1) / 2 * open_ / max(1, drawn[group])
        unblocked = sum(sample.values())
        if not unblocked:
            continue
        groups.append(group)
        scale = max(0.0, open_pairs - blocked[group]) / unblocked
        for vector, n in sample.items():
            weighted[vector] += n * scale
        pairs_scale = blocked[group] / max(1, sum(n for v, n in vectors.items() if v[0] == group))
        for vector, n in vectors.items():
            if vector[0] == group:
                weighted[vector] += n * pairs_scale
    m0, u0 = _start(weighted, start, options)
    share0 = {g: _clamp(1.0 / (1.0 + 2.0 ** -start.prior_for(g)), 1e-12) for g in groups}
    m, u, share, report = run_em(
        weighted,
        m0,
        u0,
        share0,
        max_iterations=options.max_iterations,
        tolerance=options.tolerance,
        floor=options.floor,
        u_floor=options.u_floor,
    )
    weights, parameters, untrained = _tables(start, m, u)
    priors = {"default": start.prior}
    priors.update({g: round(_logit2(share[g]), 4) for g in groups})
    # Name shares from every record being resolved, not only the training subset.
    tf = _term_frequencies(_pools(records), agreed, groups, options)
    training = {
        "records": {g: len(pools[g]) for g in GROUPS},
        "records_given": len(records),
        "blocked_pairs": dict(blocked),
        "pairs_used": sum(vectors.values()),
        "distinct_vectors": len(weighted),
        "random_pairs": drawn,
        "trained_kinds": groups,
        "match_share_of_pairs": {g: float(f"{share[g]:.6g}") for g in groups},
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


def _sig(x: float) -> float:
    return float(f"{x:.6g}")


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
    agreed: Agreed,
    groups: Sequence[str],
    options: TrainingOptions,
) -> TermFrequencies | None:
    """Name shares per trained kind, centred on the names the training pairs agreed on."""
    counts = {g: count_values(pools[g], g) for g in groups if g in agreed}
    if not counts:
        return None
    return TermFrequencies.from_counts(
        counts,
        {g: agreed[g] for g in counts},
        min_count=options.tf_min_count,
        max_adjustment=options.tf_max_adjustment,
    )
