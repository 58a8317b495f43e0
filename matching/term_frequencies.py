"""Term-frequency adjustment of name agreement: the same name is stronger evidence when the
name is rare in the data being resolved than when many records carry it (王伟, 张敏).

As in Splink, the chance that two different parties agree on value ``v`` is taken to grow with
``tf(v)``, the share of ``v`` among the parties the records show (:func:`count_values`). The
level's trained weight is the evidence of an *average* agreement at that level, so the
adjustment is ``centre - log2(tf(v))``, where ``centre`` is the mean ``log2(tf)`` of the
values agreed on by the training pairs at that level: zero on average, positive for a rarer
name, negative for a commoner one. (Splink adds ``log2(u_level / tf(v))``; with u_level
estimated near zero, as EM does when same-name non-matches are rare, that would punish every
name.) The adjustment is bounded (``max_adjustment``) so one name cannot outweigh the rest.

Only values carried by at least ``min_count`` records are listed (names shared by several
records, not the one-off ones that would point at a single person); every other value takes
the share ``rare``, the mean share of the values left out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .records import Prepared

__all__ = ["TF_FIELD", "TF_LEVELS", "TermFrequencies", "count_values", "tf_value"]

# The comparison field whose agreement is adjusted, and the levels meaning "same name".
TF_FIELD = "name"
TF_LEVELS = ("exact", "exact_common")


def tf_value(record: Prepared, group: str) -> str:
    """The value of a record whose frequency counts for a pair of kind ``group``: a company's
    name core, a person's normalised name, a Latin-letter name's words in order."""
    if group == "latin_person":
        return " ".join(sorted(record.latin_tokens))
    if group == "person":
        return record.person_name
    return record.company.core


def _identity(record: Prepared, group: str) -> str:
    """What tells one party from another carrying the same name, when the record shows it: a
    company's organization code (or other code), a person's birth date (or id number)."""
    if group == "company":
        codes = record.org_codes or record.usccs or record.registration_numbers or record.others
        return min(codes) if codes else ""
    if record.birth_date is not None:
        return record.birth_date.isoformat()
    return min(record.resident_ids) if record.resident_ids else ""


def count_values(records: Iterable[Prepared], group: str) -> Counter[str]:
    """How many different parties carry each (non-empty) value, as far as the records tell:
    records of one value count once per distinct code (company) or birth date (person), and
    the records showing neither count once together. Counting records instead would make the
    name of a party with many records look common."""
    seen: set[tuple[str, str]] = set()
    counts: Counter[str] = Counter()
    for record in records:
        value = tf_value(record, group)
        if value:
            key = (value, _identity(record, group))
            if key not in seen:
                seen.add(key)
                counts[value] += 1
    return counts


@dataclass(frozen=True)
class TermFrequencies:
    """Name shares per pair kind (``company`` / ``person`` / ``latin_person``) and the centre
    (mean log2 share) of each adjusted level. Raises nothing at scoring time: an unknown kind
    or level is not adjusted."""

    frequencies: Mapping[str, Mapping[str, float]]
    rare: Mapping[str, float]
    centre: Mapping[str, Mapping[str, float]]
    min_count: int = 5
    max_adjustment: float = 8.0
    levels: tuple[str, ...] = TF_LEVELS
    _cache: dict[tuple[str, str, str], float] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def from_counts(
        cls,
        counts: Mapping[str, Counter[str]],
        agreed: Mapping[str, Mapping[str, Counter[str]]],
        *,
        min_count: int = 5,
        max_adjustment: float = 8.0,
    ) -> TermFrequencies:
        """Shares from value counts per kind (values below ``min_count`` pooled as ``rare``);
        ``agreed``: per kind and level, the values the training pairs agreed on, whose mean
        log2 share is the level's centre."""
        frequencies: dict[str, Mapping[str, float]] = {}
        rare: dict[str, float] = {}
        for group, counter in counts.items():
            total = sum(counter.values())
            if not total:
                continue
            listed = {v: round(n / total, 8) for v, n in counter.items() if n >= min_count}
            left = [n for v, n in counter.items() if n < min_count]
            rare[group] = round((sum(left) / len(left)) / total if left else 1 / total, 8)
            frequencies[group] = MappingProxyType(dict(sorted(listed.items())))
        centre: dict[str, Mapping[str, float]] = {}
        for group, levels in agreed.items():
            if group not in rare:
                continue
            shares = frequencies[group]
            found = {}
            for level, values in levels.items():
                pairs = sum(values.values())
                if pairs:
                    logs = sum(n * math.log2(shares.get(v, rare[group])) for v, n in values.items())
                    found[level] = round(logs / pairs, 4)
            centre[group] = MappingProxyType(dict(sorted(found.items())))
        return cls(
            frequencies=MappingProxyType(frequencies),
            rare=MappingProxyType(rare),
            centre=MappingProxyType(centre),
            min_count=min_count,
            max_adjustment=max_adjustment,
        )

    def adjustment(self, group: str, level: str, value: str) -> float:
        """Bits added to the weight of ``level`` when two records agree on ``value``."""
        key = (group, level, value)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        centre = self.centre.get(group, {}).get(level)
        share = self.frequencies.get(group, {}).get(value, self.rare.get(group))
        if centre is None or share is None or share <= 0 or level not in self.levels:
            adjustment = 0.0
        else:
            raw = centre - math.log2(share)
            adjustment = round(max(-self.max_adjustment, min(self.max_adjustment, raw)), 4)
        if len(self._cache) < 1 << 16:
            self._cache[key] = adjustment
        return adjustment

    def to_dict(self) -> dict[str, object]:
        return {
            "field": TF_FIELD,
            "levels": list(self.levels),
            "min_count": self.min_count,
            "max_adjustment": self.max_adjustment,
            "centre": {g: dict(sorted(v.items())) for g, v in sorted(self.centre.items())},
            "rare": dict(sorted(self.rare.items())),
            "frequencies": {g: dict(v) for g, v in sorted(self.frequencies.items())},
        }
