"""A scoring model as data: the weight of each comparison level (with the m and u
probabilities it came from, when trained), the prior per kind of pair, the term-frequency
settings and how it was trained. Serialisable to JSON; its version is a hash of the content
that decides matches, so two trainings that give the same model give the same version.

:func:`default_model` wraps the hand-set weights of :mod:`matching.model`: a config built from
it scores exactly as ``MatchConfig()`` does. :func:`matching.training.train` makes trained ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .model import DEFAULT_WEIGHTS, MatchConfig
from .term_frequencies import TermFrequencies

__all__ = ["FORMAT", "MatchModel", "default_model"]

FORMAT = "credithub-match-model/1"
_GROUPS = ("company", "person", "latin_person")


def _frozen(tables: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType(
        {name: MappingProxyType(dict(sorted(levels.items()))) for name, levels in tables.items()}
    )


@dataclass(frozen=True)
class MatchModel:
    """``weights``: table -> level -> log2 weight; ``parameters``: table -> level ->
    ``{"m": .., "u": ..}`` for trained levels (empty for the hand-set model); ``priors``: kind
    of pair -> log2 prior odds; ``training``: statistics of the run (not part of the
    version: the same model trained twice has one version)."""

    weights: Mapping[str, Mapping[str, float]]
    priors: Mapping[str, float]
    parameters: Mapping[str, Mapping[str, Mapping[str, float]]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    term_frequencies: TermFrequencies | None = None
    training: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def content(self) -> dict[str, Any]:
        """What decides matches, JSON-ready: the part the version hashes."""
        return {
            "format": FORMAT,
            "weights": {t: dict(v) for t, v in sorted(self.weights.items())},
            "priors": dict(sorted(self.priors.items())),
            "parameters": {
                t: {lv: dict(mu) for lv, mu in v.items()}
                for t, v in sorted(self.parameters.items())
            },
            "term_frequencies": (
                None if self.term_frequencies is None else self.term_frequencies.to_dict()
            ),
        }

    @property
    def version(self) -> str:
        cached: str | None = self.__dict__.get("_version")
        if cached is None:
            canonical = json.dumps(
                self.content(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
            )
            cached = "fs-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
            object.__setattr__(self, "_version", cached)
        return cached

    @property
    def trained(self) -> bool:
        return bool(self.parameters)

    def config(self, base: MatchConfig | None = None) -> MatchConfig:
        """``base`` (thresholds, blocking limits) scoring with this model's weights."""
        base = base or MatchConfig()
        return dataclasses.replace(
            base,
            weights=self.weights,
            prior=self.priors.get("default", base.prior),
            priors=MappingProxyType({k: v for k, v in self.priors.items() if k != "default"}),
            term_frequencies=self.term_frequencies,
        )

    def to_dict(self) -> dict[str, Any]:
        return {**self.content(), "version": self.version, "training": dict(self.training)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> MatchModel:
        """Read a model written by :meth:`to_json`. Raises ValueError, saying what is wrong,
        on anything else: not JSON, another format, a weight that is not a finite number, or
        a version that does not match the content (the file was edited or damaged)."""
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a model file (invalid JSON: {exc.msg})") from exc
        return cls.from_dict(document)

    @classmethod
    def from_dict(cls, document: Any) -> MatchModel:
        """See :meth:`from_json`."""
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"not a model file (expected format {FORMAT!r})")
        weights = _tables(document.get("weights"), "weights", _number)
        priors = _numbers(document.get("priors"), "priors")
        parameters = _tables(document.get("parameters", {}), "parameters", _mu)
        tf = _term_frequencies(document.get("term_frequencies"))
        training = document.get("training", {})
        if not isinstance(training, dict):
            raise ValueError("training: expected an object")
        model = cls(
            weights=_frozen(weights),
            priors=MappingProxyType(priors),
            parameters=_frozen(parameters),
            term_frequencies=tf,
            training=MappingProxyType(training),
        )
        stated = document.get("version")
        if stated is not None and stated != model.version:
            raise ValueError(
                f"model version {stated!r} does not match its content ({model.version}): "
                "the file was changed after it was saved"
            )
        return model


def default_model() -> MatchModel:
    """The hand-set weights and prior of :class:`matching.model.MatchConfig`."""
    return MatchModel(weights=DEFAULT_WEIGHTS, priors=MappingProxyType({"default": -8.0}))


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where}: expected a finite number, got {value!r}")
    return float(value)


def _mu(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict) or set(value) != {"m", "u"}:
        raise ValueError(f"{where}: expected {{'m': .., 'u': ..}}")
    found = {k: _number(v, f"{where}.{k}") for k, v in value.items()}
    if not all(0.0 < p < 1.0 for p in found.values()):
        raise ValueError(f"{where}: m and u must lie strictly between 0 and 1")
    return found


def _numbers(value: Any, where: str) -> dict[str, float]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object")
    return {str(k): _number(v, f"{where}.{k}") for k, v in value.items()}


def _tables(value: Any, where: str, read: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object of tables")
    tables: dict[str, dict[str, Any]] = {}
    for table, levels in value.items():
        if not isinstance(levels, dict):
            raise ValueError(f"{where}.{table}: expected an object of levels")
        tables[str(table)] = {str(lv): read(x, f"{where}.{table}.{lv}") for lv, x in levels.items()}
    return tables


def _term_frequencies(value: Any) -> TermFrequencies | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("term_frequencies: expected an object or null")
    frequencies = value.get("frequencies")
    if not isinstance(frequencies, dict):
        raise ValueError("term_frequencies.frequencies: expected an object")
    levels = value.get("levels")
    if not isinstance(levels, list) or not all(isinstance(x, str) for x in levels):
        raise ValueError("term_frequencies.levels: expected a list of level names")
    min_count = value.get("min_count")
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ValueError("term_frequencies.min_count: expected a positive integer")
    return TermFrequencies(
        frequencies=_frozen(
            {g: _numbers(v, f"term_frequencies.frequencies.{g}") for g, v in frequencies.items()}
        ),
        rare=MappingProxyType(_numbers(value.get("rare"), "term_frequencies.rare")),
        centre=_frozen(_tables(value.get("centre"), "term_frequencies.centre", _number)),
        min_count=min_count,
        max_adjustment=_number(value.get("max_adjustment"), "term_frequencies.max_adjustment"),
        levels=tuple(levels),
    )
