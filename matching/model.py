"""The scoring model: Fellegi-Sunter style weights per comparison level, hard rules, and
decisions with explanations.

Each comparison level carries a weight, the log2 of m/u (how much likelier the level is for a
true pair than for a random blocked pair). The weights below are hand-set defaults, checked on
the generated benchmark; :class:`MatchConfig` takes others. The total weight is
``prior + sum(weights)`` and the match probability ``1 / (1 + 2 ** -total)``.

Pairs of two persons with Latin-letter names take ``latin_<field>`` tables where present:
such records (FEBRL-like) carry no Chinese ID and their codes and addresses behave otherwise.

Hard rules come first and cannot be outweighed: two different valid USCCs or valid resident
ids, a branch against a non-branch, or a pair a reviewer rejected, are never a match.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from .compare import COMPARATORS, CONFLICT, Comparison
from .dependence import without_double_counting
from .records import Prepared
from .term_frequencies import TF_FIELD, TermFrequencies, tf_value

__all__ = [
    "AMBIGUOUS_CANDIDATES",
    "DEFAULT_WEIGHTS",
    "FIELDS",
    "RULE_TEXTS",
    "Decision",
    "MatchConfig",
    "MatchExplanation",
    "ambiguous",
    "compare_all",
    "decide_pair",
    "hard_rule",
    "pair_group",
    "quick_rule",
    "score_pair",
]


_NO_PRIORS: Mapping[str, float] = MappingProxyType({})


def pair_group(a: Prepared, b: Prepared) -> str:
    """The kind of a pair, which picks its weight tables and prior: ``latin_person`` (two
    Latin-letter names), ``person`` (a person on either side) or ``company``."""
    if a.latin_tokens and b.latin_tokens:
        return "latin_person"
    return "person" if a.is_person or b.is_person else "company"


class Decision(StrEnum):
    POSITIVE = "positive"  # link
    NEGATIVE = "negative"  # no link
    UNSURE = "unsure"  # review


_W: dict[str, dict[str, float]] = {
    "identifiers": {
        "exact": 18.0,
        "org_code": 16.0,
        "flagged": 12.0,
        "masked": 9.0,
        "masked_weak": 1.0,
        "near": 2.0,
        # A resident id one typo from the other side's (one fails its check): by chance
        # almost never; with name and birth date agreeing it links (8 + 6 + 6 - 8).
        "near_id": 8.0,
        "different": -10.0,
        "other_differs": -10.0,
        "missing": 0.0,
    },
    # Company names: the full core agreeing in a compatible region is rare by chance.
    "name": {
        "exact": 12.0,
        "high": 6.0,
        "partial": 1.0,
        "different": -6.0,
        "region_differs": -8.0,
        # One character of the trade name (same industry and legal form), of the same sound
        # or a typo in a trade name of three characters or more: links with the same
        # address or legal representative (8 + 4 - 8, 7.5 + 4 - 8), goes to review alone.
        # A two-character trade name keeps one character of two: with one of them it goes
        # to review, with both it links (5 + 4 + 4 - 8).
        "trade_homophone": 8.0,
        "trade_typo": 7.5,
        "trade_typo_short": 5.0,
        "missing": 0.0,
    },
    # A company's city when the names do not both carry it: a different city outweighs any
    # name; a bare name (no region, no code on either side) alone goes to review.
    "region": {
        "exact": 1.0,
        "different": -10.0,
        "unknown": 0.0,
        "uncorroborated": -1.0,
        "missing": 0.0,
    },
    # Person names: homonyms are common, so a same name is weaker evidence.
    # Latin-letter names add "high" (every word alike), "close" (one alike, one close) and
    # "one_word" (one word alike, the other missing or unlike).
    # "exact_common": one of the commonest names (matching.person_names): with a birth date
    # it leaves several people, so it reaches review, never a link.
    "person_name": {
        "exact": 6.0,
        "exact_common": 2.0,
        # One character of the same sound: weak (with a birth date, review; with a near id,
        # an address or a mask too, a link).
        "homophone": 2.0,
        "high": 5.0,
        "close": 3.0,
        "partial": -1.0,
        "one_word": 0.0,
        "different": -8.0,
        "missing": 0.0,
    },
    # Legal representatives change; disagreement is weak evidence.
    "legal_rep": {
        "exact": 4.0,
        "homophone": 1.0,
        "partial": 1.0,
        "different": -1.0,
        "missing": 0.0,
    },
    # "exact_home": two persons at one street address; with a name that is not among the
    # commonest it links (6 + 6 - 8), with a common one it goes to review.
    "address": {
        "exact": 4.0,
        "exact_home": 6.0,
        "high": 3.0,
        "partial": 1.0,
        "different": -1.0,
        "missing": 0.0,
    },
    # Some 1 in 18,000 pairs of people share a birth date (log2 m/u near 14); kept far lower
    # because feeds mistype dates, but high enough that a name that is not among the
    # commonest plus the birth date links (6 + 6 - 8 = 4: p 0.94), on its own or with a
    # resident id carrying that date.
    # "implied": the dates were both read from one shared id (see matching.dependence): the
    # hand-set weights keep counting them as "exact" did; a trained model counts them once.
    "birth_date": {
        "exact": 6.0,
        "implied": 6.0,
        "near": -4.0,
        "different": -10.0,
        "missing": 0.0,
    },
    # About half of all pairs agree by chance (log2 m/u near 1); a different gender is a
    # mistake or two people (log2 of about 0.02 / 0.5).
    "gender": {"exact": 1.0, "implied": 1.0, "different": -6.0, "missing": 0.0},
    # Pairs of persons with Latin-letter names (no Chinese ID numbers; codes of unknown kind,
    # typos everywhere) use these tables where they exist, set from FEBRL 4's m/u ratios.
    "latin_identifiers": {
        "exact": 15.0,
        "near": 2.0,
        "other_differs": -4.5,
        "different": -4.5,
        "missing": 0.0,
    },
    "latin_person_name": {
        "exact": 4.5,
        "high": 4.5,
        "close": 0.0,
        "one_word": -1.0,
        "different": -4.5,
        "missing": 0.0,
    },
    "latin_address": {"exact": 10.0, "high": 10.0, "partial": 8.0, "different": -3.0},
    "latin_birth_date": {
        "exact": 4.5,
        "implied": 4.5,
        "near": 0.0,
        "different": -4.5,
        "missing": 0.0,
    },
    "latin_postcode": {"exact": 5.5, "different": -2.5, "missing": 0.0},
    "phone": {"exact": 8.0, "different": -1.0, "missing": 0.0},
    "postcode": {"exact": 1.0, "different": -0.5, "missing": 0.0},
}
DEFAULT_WEIGHTS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {name: MappingProxyType(levels) for name, levels in _W.items()}
)

HARD_RULES = {
    "different_valid_uscc": "two different valid USCCs are never the same entity",
    "different_valid_resident_id": "two different valid resident ids are never the same person",
    "branch_not_parent": "a branch is not its parent company",
    "reviewer_rejected": "a reviewer decided these are not the same",
}
# Not a hard rule: a record matching parties that different valid USCCs or resident ids keep
# apart joins neither and goes to review (matching.cluster.ambiguous_between).
AMBIGUOUS_CANDIDATES = "ambiguous_candidates"
RULE_TEXTS = {
    **HARD_RULES,
    AMBIGUOUS_CANDIDATES: (
        "it matches parties that different valid codes keep apart: a regulator decides"
    ),
}


@dataclass(frozen=True)
class MatchConfig:
    """Thresholds on the match probability, weights, and blocking limits."""

    positive_threshold: float = 0.9
    review_threshold: float = 0.5
    prior: float = -8.0  # log2 odds of a match for a random blocked pair
    weights: Mapping[str, Mapping[str, float]] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    max_block_size: int = 200
    max_name_block_size: int = 40
    # Pairs whose probability is below this keep no explanation (memory at 1M records).
    explain_floor: float = 0.5
    # A trained model's prior per kind of pair (see pair_group); kinds not listed use prior.
    priors: Mapping[str, float] = field(default_factory=lambda: _NO_PRIORS)
    # A trained model's name frequencies (None: no term-frequency adjustment).
    term_frequencies: TermFrequencies | None = None

    def prior_for(self, group: str) -> float:
        return self.priors.get(group, self.prior)

    def weight(self, field_name: str, level: str) -> float:
        return self.weights.get(field_name, {}).get(level, 0.0)

    def table_name(self, field_name: str, person: bool, latin: bool) -> str:
        """The weight table a comparison of ``field_name`` takes in a pair of this kind."""
        name = "person_name" if field_name == "name" and person else field_name
        if latin and "latin_" + name in self.weights:
            name = "latin_" + name
        return name

    def weight_tables(self, person: bool, latin: bool) -> Mapping[str, Mapping[str, float]]:
        """Comparison field -> (level -> weight) for a pair involving a person and / or of
        two Latin-letter names: which table each field takes, worked out once per kind."""
        cache = self._tables
        tables = cache.get((person, latin))
        if tables is None:
            tables = {}
            for field_name in FIELDS:
                name = self.table_name(field_name, person, latin)
                tables[field_name] = self.weights.get(name, _EMPTY_LEVELS)
            cache[(person, latin)] = tables
        return tables

    @functools.cached_property
    def _tables(self) -> dict[tuple[bool, bool], dict[str, Mapping[str, float]]]:
        return {}


@dataclass(frozen=True, slots=True)
class MatchExplanation:
    """Why a pair was decided as it was; JSON-ready through :meth:`to_dict`."""

    left: str
    right: str
    decision: Decision
    probability: float
    total_weight: float
    rule: str | None
    comparisons: tuple[Comparison, ...]
    weights: tuple[float, ...]
    positive_threshold: float
    review_threshold: float

    def to_dict(self) -> dict[str, object]:
        return {
            "left": self.left,
            "right": self.right,
            "decision": self.decision.value,
            "probability": round(self.probability, 6),
            "total_weight": round(self.total_weight, 3),
            "rule": self.rule,
            "rule_text": RULE_TEXTS.get(self.rule) if self.rule else None,
            "comparisons": [
                {**c.to_dict(), "weight": w}
                for c, w in zip(self.comparisons, self.weights, strict=True)
            ],
            "thresholds": {
                "positive": self.positive_threshold,
                "review": self.review_threshold,
            },
        }


def hard_rule(comparisons: tuple[Comparison, ...], a: Prepared, b: Prepared) -> str | None:
    """The hard rule a pair breaks, if any (reviewer decisions are checked by the caller)."""
    for comparison in comparisons:
        if comparison.field == "identifiers" and comparison.level == CONFLICT:
            return "different_valid_uscc" if a.usccs and b.usccs else "different_valid_resident_id"
        if comparison.field == "name" and comparison.level == "branch_vs_parent":
            return "branch_not_parent"
    return None


def quick_rule(a: Prepared, b: Prepared) -> str | None:
    """The identifier hard rule, checked without building comparisons (the hot path)."""
    if a.usccs and b.usccs and a.usccs.isdisjoint(b.usccs):
        return "different_valid_uscc"
    if a.resident_ids and b.resident_ids and a.resident_ids.isdisjoint(b.resident_ids):
        return "different_valid_resident_id"
    return None


def compare_all(a: Prepared, b: Prepared) -> tuple[Comparison, ...]:
    """Every comparison of a pair, in :data:`matching.compare.COMPARATORS` order, a birth date
    or gender both read from one shared id marked as implied by it."""
    return without_double_counting(tuple(compare(a, b) for compare in COMPARATORS), a, b)


def _probability(total: float) -> float:
    if total < -60:
        return 0.0
    if total > 60:
        return 1.0
    return 1.0 / (1.0 + math.pow(2.0, -total))


# The comparisons, in COMPARATORS order.
FIELDS = (
    "identifiers",
    "name",
    "legal_rep",
    "address",
    "birth_date",
    "phone",
    "postcode",
    "gender",
    "region",
)
_EMPTY_LEVELS: Mapping[str, float] = MappingProxyType({})


def _tf_adjusted(
    tf: TermFrequencies,
    comparisons: tuple[Comparison, ...],
    weights: tuple[float, ...],
    a: Prepared,
    group: str,
) -> tuple[float, ...]:
    """``weights`` with the name agreement weighed by how common the name is."""
    adjusted = list(weights)
    for index, comparison in enumerate(comparisons):
        if comparison.field == TF_FIELD and comparison.level in tf.levels:
            # Both sides agree on the value at these levels: either side's will do.
            adjusted[index] += tf.adjustment(group, comparison.level, tf_value(a, group))
    return tuple(adjusted)


def _decide(
    a: Prepared, b: Prepared, config: MatchConfig, rejected: bool
) -> tuple[tuple[Comparison, ...], tuple[float, ...], float, float, str | None, Decision]:
    comparisons = compare_all(a, b)
    tables = config.weight_tables(
        a.is_person or b.is_person, bool(a.latin_tokens and b.latin_tokens)
    )
    weights = tuple(tables[c.field].get(c.level, 0.0) for c in comparisons)
    group = pair_group(a, b)
    if config.term_frequencies is not None:
        weights = _tf_adjusted(config.term_frequencies, comparisons, weights, a, group)
    total = config.prior_for(group) + sum(weights)
    probability = _probability(total)
    rule = "reviewer_rejected" if rejected else hard_rule(comparisons, a, b)
    if rule is not None:
        decision = Decision.NEGATIVE
        probability = 0.0
    elif probability >= config.positive_threshold:
        decision = Decision.POSITIVE
    elif probability >= config.review_threshold:
        decision = Decision.UNSURE
    else:
        decision = Decision.NEGATIVE
    return comparisons, weights, total, probability, rule, decision


def ambiguous(explanation: MatchExplanation) -> MatchExplanation:
    """A positive pair's explanation when its record matches parties kept apart by their
    codes (:data:`AMBIGUOUS_CANDIDATES`): unsure, for a regulator to decide."""
    return dataclasses.replace(explanation, decision=Decision.UNSURE, rule=AMBIGUOUS_CANDIDATES)


def decide_pair(
    a: Prepared, b: Prepared, config: MatchConfig, *, rejected: bool = False
) -> tuple[Decision, float, float, str | None]:
    """``(decision, probability, total weight, hard rule)`` of a pair: what :func:`score_pair`
    decides, without building the explanation (the hot path of :func:`matching.resolve.resolve`).
    """
    _, _, total, probability, rule, decision = _decide(a, b, config, rejected)
    return decision, probability, total, rule


def score_pair(
    a: Prepared, b: Prepared, config: MatchConfig, *, rejected: bool = False
) -> MatchExplanation:
    """Compare two records and decide. ``rejected``: a reviewer said they differ."""
    comparisons, weights, total, probability, rule, decision = _decide(a, b, config, rejected)
    return MatchExplanation(
        left=a.record_id,
        right=b.record_id,
        decision=decision,
        probability=probability,
        total_weight=total,
        rule=rule,
        comparisons=comparisons,
        weights=weights,
        positive_threshold=config.positive_threshold,
        review_threshold=config.review_threshold,
    )
