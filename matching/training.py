"""Weights learned from the data being resolved (Fellegi-Sunter, trained as Splink does),
bounded so that a model trained on any data stays safe.

The pairs the model scores are all pairs of a kind that no hard rule decides. Of those:

- the **blocked candidate pairs** (sharing a blocking key) hold nearly every match, so they
  carry **m**. ``credithub resolve`` trains on the comparisons it makes anyway
  (:func:`train_on_levels`, all of them, counted per distinct vector); :func:`train` (the
  service's ``credithub matching train``) compares a fixed-size random sample of them;
- the rest are represented by a fixed number of **random pairs** per kind (those sharing no
  key), each weighing for ``(all pairs - blocked pairs) / random pairs``: nearly all
  non-matches, they carry **u**.

Expectation-maximisation (:mod:`matching.em`) estimates m, u and each kind's share of
matches over the distinct vectors, so its cost does not grow with the records: training
costs the random pairs' comparisons plus a pass of NumPy over the levels.

What keeps a learned model safe at scale:

- **Shrinkage.** A Dirichlet prior of ``pseudo_pairs`` pairs on each comparison's m and u,
  spread as the hand-set starting values: rare levels stay near them.
- **Caps.** Each level's weight stays within ``weight_cap`` bits of its hand-set weight, and
  each kind's prior within ``prior_cap`` bits of the hand-set prior: no level learned from
  a coincidence of the data (m near 1, u at its floor: 20 bits) can link a pair by itself.
- **No double counting.** A birth date or gender read from the very id the identifiers
  comparison found shared is ``implied`` (:mod:`matching.dependence`): left out of training
  and weighted 0, the id's weight holds that evidence once.

Other guards: a level never observed keeps its starting weight (``untrained_levels``);
"missing" levels carry no evidence (weight 0, as in Splink); a kind with fewer than
``min_pairs`` blocked pairs keeps its starting prior; m and u are clamped away from 0 and 1.
Names get a term-frequency adjustment (:mod:`matching.term_frequencies`).
"""

from __future__ import annotations

import math
import random
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from .blocking import BlockIndex, blocking_keys
from .dependence import IMPLIED
from .em import Key, Vector, run_em
from .match_model import MatchModel
from .model import MatchConfig, compare_all, hard_rule, pair_group, quick_rule
from .pair_levels import FIELDS, GROUPS, PairLevels, level_code, level_name
from .records import Prepared
from .term_frequencies import TF_FIELD, TF_LEVELS, TermFrequencies, count_values, tf_value

__all__ = [
    "GROUPS",
    "Key",
    "TrainingOptions",
    "Vector",
    "comparison_vector",
    "random_vectors",
    "run_em",
    "train",
    "train_on_levels",
]

# A side lacks the field: no evidence either way (weight 0, not trained), as in Splink. Left
# in, it learns how often feeds leave a field empty, which says nothing about the pair.
MISSING = "missing"
_SILENT = (MISSING, IMPLIED)
_BASE = 64


@dataclass(frozen=True)
class TrainingOptions:
    """Sizes and guards of a training run: the sample sizes bound its cost at any size."""

    max_pairs: int = 40_000  # blocked pairs :func:`train` compares (a random sample beyond)
    random_pairs: int = 4_000  # random pairs drawn per kind of pair
    tf_pairs: int = 50_000  # pairs agreeing on a name whose names centre the adjustment
    # EM steps (matching.em: a step costs well under a millisecond, at any size).
    max_iterations: int = 5_000
    # Largest change of an m, u or share to stop at: small, since a nearly flat likelihood
    # (a million records) makes steps small long before the fixed point is near.
    tolerance: float = 1e-9
    floor: float = 1e-4  # m lies in [floor, 1 - floor]
    u_floor: float = 1e-6  # u lies in [u_floor, 1 - u_floor]
    pseudo_pairs: float = 50.0  # Dirichlet prior on m and u, in pairs, at the starting values
    weight_cap: float = 3.0  # a level's weight within this many bits of its hand-set one
    prior_cap: float = 3.0  # a kind's prior within this many bits of the hand-set prior
    min_pairs: int = 50  # fewer blocked pairs of a kind: it is not trained
    tf_min_count: int = 5
    tf_max_adjustment: float = 8.0
    seed: int = 20261203


def _keys(
    comparisons: Sequence[tuple[str, str]], group: str, config: MatchConfig
) -> tuple[Key, ...]:
    person, latin = group != "company", group == "latin_person"
    return tuple(
        (config.table_name(field_name, person, latin), level)
        for field_name, level in comparisons
        if level not in _SILENT
    )


def comparison_vector(a: Prepared, b: Prepared, config: MatchConfig) -> Vector | None:
    """The pair's kind and (weight table, level) of each comparison, missing and implied
    levels left out; None when a hard rule decides the pair (the model never weighs it)."""
    if quick_rule(a, b) is not None:
        return None
    comparisons = compare_all(a, b)
    if hard_rule(comparisons, a, b) is not None:
        return None
    group = pair_group(a, b)
    return group, _keys([(c.field, c.level) for c in comparisons], group, config)


def _pools(records: Sequence[Prepared]) -> dict[str, list[int]]:
    pools: dict[str, list[int]] = {g: [] for g in GROUPS}
    for n, record in enumerate(records):
        if not record.is_person:
            pools["company"].append(n)
        elif record.latin_tokens:
            pools["latin_person"].append(n)
        else:
            pools["person"].append(n)
    return pools


def random_vectors(
    pool: Sequence[Prepared],
    config: MatchConfig,
    *,
    pairs: int,
    rng: random.Random,
    blocked: Callable[[int, int], bool] | None = None,
) -> tuple[Counter[Vector], int, int]:
    """Comparison vectors of ``pairs`` random pairs of ``pool`` that are not blocked pairs
    (those are observed in full elsewhere) and no hard rule decides; with the number of pairs
    drawn and of those no hard rule decides. ``blocked(i, j)`` (positions in ``pool``) says
    whether a pair is a candidate pair; without it, a pair sharing a blocking key is."""
    vectors: Counter[Vector] = Counter()
    keys: dict[int, set[str]] = {}
    drawn = min(pairs, len(pool) * (len(pool) - 1) // 2)
    open_ = 0
    for _ in range(drawn):
        i, j = rng.sample(range(len(pool)), 2)
        if quick_rule(pool[i], pool[j]) is not None:
            continue
        open_ += 1
        if blocked is not None:
            if blocked(i, j):
                continue
        else:
            for n in (i, j):
                if n not in keys:
                    keys[n] = blocking_keys(pool[n])
            if keys[i] & keys[j]:
                continue  # a blocked pair: observed in full with the others
        vector = comparison_vector(pool[i], pool[j], config)
        if vector is not None:
            vectors[vector] += 1
    return vectors, drawn, open_


def _level_vectors(
    pairs: PairLevels, config: MatchConfig, scale: float
) -> tuple[dict[Vector, float], Counter[str]]:
    """The distinct vectors of the pairs no hard rule decides, each with the pairs it stands
    for (``scale`` per pair compared), and each kind's number of such pairs. Counted with
    NumPy over packed rows, so a million pairs cost a fraction of a second."""
    open_rows = pairs.rules() == 0
    levels = pairs.matrix()[open_rows]
    # Six bits a level (a few dozen level names), two for the kind: 56 bits in an int64.
    if levels.size and int(levels.max()) >= _BASE:
        raise ValueError("more level names than the packing holds")
    packed = pairs.groups()[open_rows].astype(np.int64)
    for f in range(len(FIELDS)):
        packed *= _BASE
        packed += levels[:, f]
    distinct, counts = np.unique(packed, return_counts=True)
    vectors: dict[Vector, float] = {}
    blocked: Counter[str] = Counter()
    for code, n in zip(distinct.tolist(), counts.tolist(), strict=True):
        row = []
        for _ in FIELDS:
            code, level = divmod(code, _BASE)
            row.append(level_name(level))
        group = GROUPS[code]
        named = list(zip(FIELDS, reversed(row), strict=True))
        vectors[(group, _keys(named, group, config))] = n * scale
        blocked[group] += round(n * scale)
    return vectors, blocked


Agreed = dict[str, dict[str, Counter[str]]]  # kind -> name level -> value -> pairs


def _agreed_names(
    records: Sequence[Prepared], pairs: PairLevels, options: TrainingOptions
) -> Agreed:
    """The names pairs agree on at a term-frequency level, per kind and level (a random
    sample of ``tf_pairs`` of those pairs at most): their mean share centres the adjustment."""
    name = FIELDS.index(TF_FIELD)
    levels = pairs.matrix()[:, name]
    wanted = [level_code(lv) for lv in TF_LEVELS]
    rows = np.flatnonzero(np.isin(levels, wanted) & (pairs.rules() == 0))
    if len(rows) > options.tf_pairs:
        chosen = np.random.default_rng(options.seed).choice(rows, options.tf_pairs, replace=False)
        rows = np.sort(chosen)
    agreed: Agreed = {}
    groups = pairs.groups()
    for k in rows.tolist():
        group = GROUPS[groups[k]]
        value = tf_value(records[pairs.left[k]], group)
        level = level_name(int(levels[k]))
        agreed.setdefault(group, {}).setdefault(level, Counter())[value] += 1
    return agreed


def _candidate_test(
    pairs: PairLevels, size: int, pool: Sequence[int]
) -> Callable[[int, int], bool]:
    """Whether two records of ``pool`` (by their positions in it) are among the compared
    candidate ``pairs``: a binary search in their sorted codes (a set of millions of pairs
    would take hundreds of megabytes)."""
    lefts = np.frombuffer(pairs.left, dtype=np.int64)
    rights = np.frombuffer(pairs.right, dtype=np.int64)
    codes = np.sort(lefts * size + rights)

    def blocked(i: int, j: int) -> bool:
        a, b = sorted((pool[i], pool[j]))
        code = a * size + b
        at = int(np.searchsorted(codes, code))
        return at < len(codes) and int(codes[at]) == code

    return blocked


def _sample_blocked(
    records: Sequence[Prepared], config: MatchConfig, options: TrainingOptions
) -> tuple[PairLevels, float]:
    """A random sample of ``max_pairs`` of the blocked pairs the identifier rule does not
    decide, compared, and how many pairs each stands for."""
    index = BlockIndex(config.max_block_size, config.max_name_block_size)
    index.add(records)
    size = index.size
    codes = array("q")
    for code in index.pairs_for(range(size)):
        i, j = divmod(code, size)
        if quick_rule(records[i], records[j]) is None:
            codes.append(code)
    chosen = np.frombuffer(codes, dtype=np.int64) if codes else np.zeros(0, dtype=np.int64)
    if len(chosen) > options.max_pairs:
        # The pairs with the smallest seeded hashes, not a reservoir: pairs_for yields in the
        # order of a set of strings, which changes with the process's hash seed, and a
        # reservoir sample would follow it (the service trained a different model each run).
        keys = _mixed(chosen.astype(np.uint64), options.seed)
        chosen = chosen[np.argpartition(keys, options.max_pairs)[: options.max_pairs]]
    pairs = PairLevels()
    for code in np.sort(chosen).tolist():
        i, j = divmod(code, size)
        pairs.add(i, j, records[i], records[j], compare_all(records[i], records[j]))
    return pairs, (len(codes) / len(chosen) if len(chosen) else 1.0)


def _mixed(values: np.ndarray, seed: int) -> np.ndarray:
    """splitmix64 of ``values`` + ``seed``: a seeded hash spreading neighbouring codes apart."""
    with np.errstate(over="ignore"):
        x = values + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def train(
    records: Sequence[Prepared],
    *,
    start: MatchConfig | None = None,
    options: TrainingOptions | None = None,
) -> MatchModel:
    """A model trained on ``records`` (prepared once by the caller), starting from ``start``'s
    weights and prior, on a fixed-size sample of their blocked pairs. Deterministic for the
    same records and options. Raises nothing on small or odd data: what cannot be trained
    keeps its starting value and is reported."""
    start = start or MatchConfig()
    options = options or TrainingOptions()
    started = time.perf_counter()
    pairs, scale = _sample_blocked(records, start, options)
    return train_on_levels(
        records, pairs, start, options, scale=scale, started=started, partial=True
    )


def train_on_levels(
    records: Sequence[Prepared],
    pairs: PairLevels,
    start: MatchConfig | None = None,
    options: TrainingOptions | None = None,
    *,
    scale: float = 1.0,
    started: float | None = None,
    partial: bool = False,
) -> MatchModel:
    """A model trained on the compared blocked ``pairs`` of ``records`` (each standing for
    ``scale`` pairs; ``partial``: a sample of them, not all the candidate pairs) plus random
    pairs; see :func:`train`."""
    started = time.perf_counter() if started is None else started
    start = start or MatchConfig()
    options = options or TrainingOptions()
    vectors, blocked = _level_vectors(pairs, start, scale)
    pools = _pools(records)
    weighted, drawn, groups = _with_random_pairs(
        records, pools, pairs, vectors, blocked, start, options, partial
    )
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
        pseudo=options.pseudo_pairs,
    )
    weights, parameters, untrained, capped = _tables(start, m, u, options.weight_cap)
    priors, capped_priors = _priors(start, share, groups, options.prior_cap)
    # Name shares from every record being resolved, centred on the names pairs agreed on.
    tf = _term_frequencies(records, pools, _agreed_names(records, pairs, options), groups, options)
    training = {
        "records": {g: len(pools[g]) for g in GROUPS},
        "records_given": len(records),
        "blocked_pairs": dict(blocked),
        "pairs_used": len(pairs),
        "distinct_vectors": len(weighted),
        "random_pairs": drawn,
        "trained_kinds": groups,
        "match_share_of_pairs": {g: float(f"{share[g]:.6g}") for g in groups},
        **report,
        "untrained_levels": untrained,
        "capped_levels": capped,
        "capped_priors": capped_priors,
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


def _with_random_pairs(
    records: Sequence[Prepared],
    pools: Mapping[str, Sequence[int]],
    pairs: PairLevels,
    vectors: Mapping[Vector, float],
    blocked: Counter[str],
    start: MatchConfig,
    options: TrainingOptions,
    partial: bool,
) -> tuple[dict[Vector, float], dict[str, int], list[str]]:
    """The blocked vectors plus each kind's random pairs, weighted for the pairs outside the
    blocks; the random pairs drawn per kind; the kinds trained (enough blocked pairs)."""
    rng = random.Random(options.seed)
    weighted: defaultdict[Vector, float] = defaultdict(float)
    drawn: dict[str, int] = {}
    groups = []
    for group in GROUPS:
        pool = [records[n] for n in pools[group]]
        if blocked[group] < options.min_pairs or len(pool) < 2:
            continue
        sample, drawn[group], open_ = random_vectors(
            pool,
            start,
            pairs=options.random_pairs,
            rng=rng,
            blocked=None if partial else _candidate_test(pairs, len(records), pools[group]),
        )
        # All pairs of the kind that no hard rule decides, as the random pairs show it.
        open_pairs = len(pool) * (len(pool) - 1) / 2 * open_ / max(1, drawn[group])
        unblocked = sum(sample.values())
        if not unblocked:
            continue
        groups.append(group)
        unit = max(0.0, open_pairs - blocked[group]) / unblocked
        for vector, drawn_pairs in sample.items():
            weighted[vector] += drawn_pairs * unit
        for vector, stands_for in vectors.items():
            if vector[0] == group:
                weighted[vector] += stands_for
    return dict(weighted), drawn, groups


def _clamp(p: float, floor: float) -> float:
    return min(max(p, floor), 1.0 - floor)


def _logit2(p: float) -> float:
    return math.log2(p / (1.0 - p))


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


def _normalised(values: Mapping[Key, float], floor: float) -> dict[Key, float]:
    totals: defaultdict[str, float] = defaultdict(float)
    for (table, _), value in values.items():
        totals[table] += value
    return {
        k: _clamp(v / totals[k[0]], floor) if totals[k[0]] else floor for k, v in values.items()
    }


def _priors(
    start: MatchConfig, share: Mapping[str, float], groups: Sequence[str], cap: float
) -> tuple[dict[str, float], list[str]]:
    """Each trained kind's prior (log2 odds of its share of matches) within ``cap`` bits of
    the hand-set prior, and the kinds whose prior the cap held."""
    priors = {"default": start.prior}
    capped = []
    for group in groups:
        hand = start.prior_for(group)
        learned = _logit2(share[group])
        bounded = min(max(learned, hand - cap), hand + cap)
        if bounded != learned:
            capped.append(group)
        priors[group] = round(bounded, 4)
    return priors, capped


def _sig(x: float) -> float:
    return float(f"{x:.6g}")


def _tables(
    start: MatchConfig, m: Mapping[Key, float], u: Mapping[Key, float], cap: float
) -> tuple[dict[str, Any], dict[str, Any], list[str], list[str]]:
    """Weights (trained levels ``log2(m / u)`` within ``cap`` bits of the starting weight,
    the others their starting weight, implied levels 0), the m / u of the trained levels,
    and the names of the untrained levels and of those the cap held."""
    weights: dict[str, dict[str, float]] = {t: dict(v) for t, v in start.weights.items()}
    parameters: dict[str, dict[str, dict[str, float]]] = {}
    capped = []
    for (table, level), m_value in sorted(m.items()):
        mu = {"m": _sig(m_value), "u": _sig(u[(table, level)])}
        parameters.setdefault(table, {})[level] = mu
        learned = math.log2(mu["m"] / mu["u"])
        hand = start.weight(table, level)
        bounded = min(max(learned, hand - cap), hand + cap)
        if bounded != learned:
            capped.append(f"{table}.{level}")
        weights.setdefault(table, {})[level] = round(bounded, 3)
    for levels in weights.values() if m else ():  # nothing trained: the hand-set model
        if IMPLIED in levels:
            levels[IMPLIED] = 0.0  # counted once, in the identifier's weight
    untrained = sorted(
        f"{t}.{lv}"
        for t, levels in start.weights.items()
        for lv in levels
        if (t, lv) not in m and lv not in _SILENT
    )
    return weights, parameters, untrained, capped


def _term_frequencies(
    records: Sequence[Prepared],
    pools: Mapping[str, Sequence[int]],
    agreed: Agreed,
    groups: Sequence[str],
    options: TrainingOptions,
) -> TermFrequencies | None:
    """Name shares per trained kind, centred on the names the training pairs agreed on."""
    counts = {g: count_values((records[n] for n in pools[g]), g) for g in groups if g in agreed}
    if not counts:
        return None
    return TermFrequencies.from_counts(
        counts,
        {g: agreed[g] for g in counts},
        min_count=options.tf_min_count,
        max_adjustment=options.tf_max_adjustment,
    )
