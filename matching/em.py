"""Fellegi-Sunter expectation-maximisation over weighted comparison vectors, with NumPy.

The model: a pair of records is a match with probability ``share`` (per kind of pair); each
comparison's level is drawn from ``m`` (matches) or ``u`` (non-matches), independently. The
input is each *distinct* comparison vector with how many pairs it stands for, so an iteration
costs the number of distinct vectors (a few hundred), not of pairs.

A Dirichlet prior on each comparison's m and u (``pseudo`` pairs distributed as the starting
values) shrinks what the data says little about toward the hand-set starting point: a level
seen in a handful of pairs keeps nearly its starting m / u, one seen in thousands takes the
data's. m and u are clamped away from 0 and 1; the iterations are bounded and whether the EM
converged is reported.

Written by hand (no library does Fellegi-Sunter EM over our comparators without a SQL
engine); it is the textbook EM of a two-class latent model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["Key", "Vector", "run_em"]

Key = tuple[str, str]  # (weight table, level)
Vector = tuple[str, tuple[Key, ...]]  # (kind of pair, one key per comparison)


class _Layout:
    """The vectors as arrays: kind index, key indices padded with a key of log-ratio 0."""

    def __init__(self, vectors: Mapping[Vector, float], keys: list[Key], groups: list[str]):
        index = {k: n for n, k in enumerate(keys)}
        group_index = {g: n for n, g in enumerate(groups)}
        items = [(v, n) for v, n in vectors.items() if v[0] in group_index and n > 0]
        width = max((len(v[1]) for v, _ in items), default=1) or 1
        pad = len(keys)
        self.keys = np.full((len(items), width), pad, dtype=np.intp)
        for row, ((_, vector_keys), _) in enumerate(items):
            found = [index[k] for k in vector_keys if k in index]
            self.keys[row, : len(found)] = found
        self.group = np.array([group_index[v[0]] for v, _ in items], dtype=np.intp)
        self.count = np.array([n for _, n in items], dtype=np.float64)
        tables = sorted({t for t, _ in keys})
        table_index = {t: n for n, t in enumerate(tables)}
        self.table = np.array([table_index[t] for t, _ in keys], dtype=np.intp)
        self.tables = len(tables)
        self.size = len(keys)
        self.width = width
        self.groups = len(groups)

    def masses(self, log_ratio: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, ...]:
        """Expected match mass and non-match mass of each key, matches and pairs per kind."""
        padded = np.append(log_ratio, 0.0)
        score = prior[self.group] + padded[self.keys].sum(axis=1)
        matched = self.count / (1.0 + np.exp2(np.minimum(-score, 1000.0)))
        flat = self.keys.ravel()
        bins = self.size + 1
        match_mass = np.bincount(flat, np.repeat(matched, self.width), bins)[: self.size]
        other_mass = np.bincount(flat, np.repeat(self.count - matched, self.width), bins)
        group_matched = np.bincount(self.group, matched, self.groups)
        group_total = np.bincount(self.group, self.count, self.groups)
        return match_mass, other_mass[: self.size], group_matched, group_total

    def normalised(
        self, mass: np.ndarray, pseudo: float, start: np.ndarray, floor: float
    ) -> np.ndarray:
        """Per table, ``mass`` plus ``pseudo`` pairs spread as ``start``, as shares."""
        start_totals = np.bincount(self.table, start, self.tables)[self.table]
        smoothed = mass + pseudo * start / np.where(start_totals > 0, start_totals, 1.0)
        totals = np.bincount(self.table, smoothed, self.tables)[self.table]
        shares = np.where(totals > 0, smoothed / np.where(totals > 0, totals, 1.0), floor)
        return np.clip(shares, floor, 1.0 - floor)


def _logit2(p: np.ndarray) -> np.ndarray:
    return np.log2(p / (1.0 - p))


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
    pseudo: float = 0.0,
) -> tuple[dict[Key, float], dict[Key, float], dict[str, float], dict[str, Any]]:
    """m, u and each kind's share of matches from their starting values, over the distinct
    vectors and the pairs each stands for. Returns them with ``{"iterations", "converged",
    "max_change"}``; stops after ``max_iterations`` or once nothing changes by ``tolerance``
    or more (a share relative to itself). ``pseudo``: the Dirichlet prior's weight in pairs
    (0: none). Keys of ``vectors`` missing from ``m`` are ignored."""
    keys = sorted(m)
    groups = sorted(share)
    layout = _Layout(vectors, keys, groups)
    m_start = np.array([m[k] for k in keys], dtype=np.float64)
    u_start = np.array([u[k] for k in keys], dtype=np.float64)
    m_now, u_now = m_start.copy(), u_start.copy()
    share_now = np.array([share[g] for g in groups], dtype=np.float64)
    change, iterations = np.inf, 0
    while iterations < max_iterations and change >= tolerance:
        iterations += 1
        log_ratio = np.log2(m_now / u_now)
        match_mass, other_mass, group_matched, group_total = layout.masses(
            log_ratio, _logit2(share_now)
        )
        new_m = layout.normalised(match_mass, pseudo, m_start, floor)
        new_u = layout.normalised(other_mass, pseudo, u_start, u_floor)
        with np.errstate(invalid="ignore", divide="ignore"):
            new_share = np.where(group_total > 0, group_matched / group_total, share_now)
        new_share = np.clip(new_share, 1e-12, 1.0 - 1e-12)
        change = float(
            max(
                np.max(np.abs(new_m - m_now), initial=0.0),
                np.max(np.abs(new_u - u_now), initial=0.0),
                np.max(np.abs(new_share - share_now) / share_now, initial=0.0),
            )
        )
        m_now, u_now, share_now = new_m, new_u, new_share
    report = {"iterations": iterations, "converged": change < tolerance, "max_change": change}
    return (
        {k: float(x) for k, x in zip(keys, m_now, strict=True)},
        {k: float(x) for k, x in zip(keys, u_now, strict=True)},
        {g: float(x) for g, x in zip(groups, share_now, strict=True)},
        report,
    )
