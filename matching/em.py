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


class _Step:
    """One EM step as a map of the parameters (m, u and shares, concatenated)."""

    def __init__(
        self,
        layout: _Layout,
        start: tuple[np.ndarray, np.ndarray],
        bounds: tuple[float, float],
        pseudo: float,
    ) -> None:
        self.layout, (self.m_start, self.u_start) = layout, start
        self.size = layout.size
        (self.floor, self.u_floor), self.pseudo = bounds, pseudo

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.size
        return theta[:n], theta[n : 2 * n], theta[2 * n :]

    def valid(self, theta: np.ndarray) -> np.ndarray:
        """``theta`` moved into the parameters' bounds."""
        m, u, share = self.split(theta)
        return np.concatenate(
            (
                np.clip(m, self.floor, 1.0 - self.floor),
                np.clip(u, self.u_floor, 1.0 - self.u_floor),
                np.clip(share, 1e-12, 1.0 - 1e-12),
            )
        )

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        m, u, share = self.split(theta)
        layout = self.layout
        match_mass, other_mass, group_matched, group_total = layout.masses(
            np.log2(m / u), _logit2(share)
        )
        new_m = layout.normalised(match_mass, self.pseudo, self.m_start, self.floor)
        new_u = layout.normalised(other_mass, self.pseudo, self.u_start, self.u_floor)
        with np.errstate(invalid="ignore", divide="ignore"):
            new_share = np.where(group_total > 0, group_matched / group_total, share)
        return np.concatenate((new_m, new_u, np.clip(new_share, 1e-12, 1.0 - 1e-12)))

    def change(self, new: np.ndarray, old: np.ndarray) -> float:
        """Largest change of an m or u, or of a share relative to itself."""
        n = 2 * self.size
        return float(
            max(
                np.max(np.abs(new[:n] - old[:n]), initial=0.0),
                np.max(np.abs(new[n:] - old[n:]) / old[n:], initial=0.0),
            )
        )


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
    "max_change"}``; stops after ``max_iterations`` EM steps or once a step changes nothing
    by ``tolerance`` or more (a share relative to itself). ``pseudo``: the Dirichlet prior's
    weight in pairs (0: none). Keys of ``vectors`` missing from ``m`` are ignored.

    Accelerated with SQUAREM (Varadhan and Roland, 2008, scheme S3): EM converges linearly,
    and at a million records the likelihood is nearly flat along one direction (the weights
    of a same birth date, of different ids and of a similar address trade off), so plain EM
    crept at a rate near 0.9999 a step: the 200-step bound stopped it unconverged, 317 steps
    met a 1e-5 tolerance still 0.2 bits of weight from EM's fixed point, which took 117,000
    steps to reach. Each cycle makes two EM steps, extrapolates along them (moved back into
    the bounds) and makes one more EM step from there: at a million records 1,322 steps, 0.1 s,
    reach a 1e-9 tolerance within 0.003 bits of the fixed point. The fixed point is EM's; only
    the way there is shorter."""
    keys = sorted(m)
    groups = sorted(share)
    layout = _Layout(vectors, keys, groups)
    m_start = np.array([m[k] for k in keys], dtype=np.float64)
    u_start = np.array([u[k] for k in keys], dtype=np.float64)
    step = _Step(layout, (m_start, u_start), (floor, u_floor), pseudo)
    theta = np.concatenate((m_start, u_start, [share[g] for g in groups]))
    change, iterations = np.inf, 0
    while iterations < max_iterations and change >= tolerance:
        start = theta
        theta = first = step(start)
        iterations += 1
        change = step.change(first, start)
        if change < tolerance or iterations >= max_iterations:
            break
        theta = second = step(first)
        iterations += 1
        change = step.change(second, first)
        if change < tolerance or iterations >= max_iterations:
            break
        r, v = first - start, second - 2.0 * first + start
        curvature = float(np.dot(v, v))
        length = float(np.sqrt(np.dot(r, r) / curvature)) if curvature > 0 else 1.0
        if length <= 1.0:
            continue  # no longer step than plain EM's two
        jumped = step.valid(start + 2.0 * length * r + length * length * v)
        stabilised = step(jumped)
        iterations += 1
        jump_change = step.change(stabilised, jumped)
        if np.all(np.isfinite(stabilised)):
            theta, change = stabilised, jump_change
    m_now, u_now, share_now = step.split(theta)
    report = {"iterations": iterations, "converged": change < tolerance, "max_change": change}
    return (
        {k: float(x) for k, x in zip(keys, m_now, strict=True)},
        {k: float(x) for k, x in zip(keys, u_now, strict=True)},
        {g: float(x) for g, x in zip(groups, share_now, strict=True)},
        report,
    )
