"""The comparison levels of many pairs as small integers, and their scores computed at once.

Comparing a pair (:func:`matching.model.compare_all`) is the costly part of resolving; its
levels do not depend on the weights. :class:`PairLevels` keeps each pair's levels (one byte a
comparison), its kind and whether a hard rule decides it, so that the same comparisons serve
both to train a model (:mod:`matching.training`) and to score every pair with it
(:func:`pair_totals`, NumPy over the whole array instead of a Python loop a pair).
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Sequence

import numpy as np

from .compare import Comparison
from .model import FIELDS, MatchConfig, hard_rule, pair_group
from .records import Prepared
from .term_frequencies import TF_FIELD, tf_value

__all__ = [
    "FIELDS",
    "GROUPS",
    "PairLevels",
    "level_code",
    "level_name",
    "level_vocabulary",
    "pair_totals",
]

GROUPS = ("company", "person", "latin_person")
_GROUP_CODE = {g: n for n, g in enumerate(GROUPS)}
# Level names get codes in the order first seen (a process-wide vocabulary: a few dozen).
_LEVELS: list[str] = ["missing"]
_CODES: dict[str, int] = {"missing": 0}
# Hard rules a pair breaks, as a byte: 0 none.
RULES = ("", "different_valid_uscc", "different_valid_resident_id", "branch_not_parent")


_NEW_LEVEL = threading.Lock()


def level_code(level: str) -> int:
    """The level's code, given on first sight (under a lock: two threads must not give one
    level two codes)."""
    code = _CODES.get(level)
    if code is None:
        with _NEW_LEVEL:
            code = _CODES.get(level)
            if code is None:
                code = len(_LEVELS)
                _LEVELS.append(level)
                _CODES[level] = code
    return code


def level_name(code: int) -> str:
    return _LEVELS[code]


def level_vocabulary() -> list[str]:
    """This process's level names, by code (another process may have coded them otherwise)."""
    return list(_LEVELS)


class PairLevels:
    """Pairs of record positions with their kind, hard rule and levels, in flat arrays."""

    def __init__(self) -> None:
        self.left = array("q")
        self.right = array("q")
        self.group = bytearray()
        self.rule = bytearray()
        self.levels = bytearray()  # len(FIELDS) bytes a pair

    def __len__(self) -> int:
        return len(self.group)

    def add(
        self, i: int, j: int, a: Prepared, b: Prepared, comparisons: tuple[Comparison, ...]
    ) -> None:
        self.left.append(i)
        self.right.append(j)
        self.group.append(_GROUP_CODE[pair_group(a, b)])
        rule = hard_rule(comparisons, a, b)
        self.rule.append(0 if rule is None else RULES.index(rule))
        codes = _CODES
        self.levels.extend(
            [codes[c.level] if c.level in codes else level_code(c.level) for c in comparisons]
        )

    def extend(self, other: PairLevels, recode: bytes | None = None) -> None:
        """Append ``other``'s pairs; ``recode``: a ``bytes.translate`` table from the level
        codes of the process that compared them to this process's."""
        self.left.extend(other.left)
        self.right.extend(other.right)
        self.group.extend(other.group)
        self.rule.extend(other.rule)
        self.levels.extend(other.levels if recode is None else other.levels.translate(recode))

    def matrix(self) -> np.ndarray:
        """Levels as an ``(pairs, len(FIELDS))`` uint8 array (a view, no copy)."""
        return np.frombuffer(self.levels, dtype=np.uint8).reshape(-1, len(FIELDS))

    def groups(self) -> np.ndarray:
        return np.frombuffer(self.group, dtype=np.uint8)

    def rules(self) -> np.ndarray:
        return np.frombuffer(self.rule, dtype=np.uint8)


def _weight_cube(config: MatchConfig) -> np.ndarray:
    """``(groups, fields, level codes)`` weights of ``config`` (0 for a level it lacks)."""
    for table in config.weights.values():
        for level in table:
            level_code(level)
    cube = np.zeros((len(GROUPS), len(FIELDS), len(_LEVELS)), dtype=np.float64)
    for g, group in enumerate(GROUPS):
        person, latin = group != "company", group == "latin_person"
        for f, field_name in enumerate(FIELDS):
            table = config.weights.get(config.table_name(field_name, person, latin), {})
            for level, weight in table.items():
                cube[g, f, _CODES[level]] = weight
    return cube


def pair_totals(pairs: PairLevels, records: Sequence[Prepared], config: MatchConfig) -> np.ndarray:
    """Each pair's total weight (prior of its kind + the weights of its levels + the name's
    term-frequency adjustment), as :func:`matching.model.decide_pair` adds them up."""
    levels = pairs.matrix()
    groups = pairs.groups().astype(np.intp)
    cube = _weight_cube(config)
    priors = np.array([config.prior_for(g) for g in GROUPS])
    totals = priors[groups]
    for f in range(len(FIELDS)):
        totals = totals + cube[groups, f, levels[:, f]]
    tf = config.term_frequencies
    if tf is not None and len(pairs):
        name = FIELDS.index(TF_FIELD)
        codes = [_CODES[lv] for lv in tf.levels if lv in _CODES]
        rows = np.flatnonzero(np.isin(levels[:, name], codes))
        left = pairs.left
        for k in rows.tolist():
            group = GROUPS[groups[k]]
            value = tf_value(records[left[k]], group)
            totals[k] += tf.adjustment(group, _LEVELS[levels[k, name]], value)
    return totals
