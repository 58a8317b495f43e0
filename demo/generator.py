"""Deterministic synthetic feeds for the six demo departments, with the ground truth: the
entry point behind ``credithub sample generate`` and ``sample_data/``.

:func:`generate_feeds` draws a population (:mod:`demo.population`: companies, some of them
branches, individual businesses and natural persons), plans each entity's records in the
layouts the departments really use (:mod:`demo.records`) with the noise real feeds carry
(:mod:`demo.noise`: name variants, traditional and full-width characters, typos, old codes
instead of the USCC, lower-case codes, wrong check characters, missing codes), and writes the
six feeds of ``sample_data/catalogue.toml`` and ``ground_truth.csv`` saying which entity every
record is about (:mod:`demo.writers`; feed codes and layouts in :mod:`demo.feeds`).

The same ``seed`` always gives the same bytes. Records are produced entity by entity and written
in chunks, so memory stays bounded however large the population is.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from demo.feeds import FEEDS
from demo.population import EntityKind, Population
from demo.records import Chunk, RecordPlanner
from demo.writers import FeedWriter

__all__ = ["GenerationSummary", "generate_feeds"]

# Entities are generated and written in chunks of this size: large enough that shuffling a
# chunk hides the generation order, small enough to keep memory flat.
_CHUNK = 4096


@dataclass(frozen=True)
class GenerationSummary:
    """What :func:`generate_feeds` wrote: record counts and files per feed code."""

    entities: int
    seed: int
    kinds: dict[str, int]
    records: dict[str, int]
    files: dict[str, tuple[Path, ...]]
    ground_truth: Path

    @property
    def total_records(self) -> int:
        return sum(self.records.values())


def generate_feeds(
    *,
    entities: int,
    out_dir: Path,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> GenerationSummary:
    """Write the six synthetic feeds and ``ground_truth.csv`` for ``entities`` entities.

    Files (relative to ``out_dir``) are overwritten: ``drops/samr-registry/registry_20260331.csv``
    (UTF-8 with BOM), ``drops/tax-credit-grades/grades_2024.jsonl`` and ``grades_2025.jsonl``,
    ``drops/env-penalties/penalties_202510.csv`` … ``penalties_202603.csv`` (GBK),
    ``drops/customs-credit/customs_credit_202603.xlsx``,
    ``http/court-dishonest-debtors.jsonl``, ``exchange/hrss.sqlite3`` and ``ground_truth.csv``.
    ``progress`` is called with the number of entities just finished (an increment, as
    ``click.progressbar.update`` takes it).
    """
    if entities < 1:
        raise ValueError("entities must be at least 1")
    population = Population(seed)
    # The records' RNG is separate from the population's: planning, shuffling and numbering
    # all draw from it, in that order per chunk.
    rng = random.Random(f"credithub-sample:{seed}:records")
    planner = RecordPlanner(rng)
    writer = FeedWriter(Path(out_dir), rng)
    kinds: Counter[str] = Counter()
    with writer.open():
        chunk, size = Chunk(), 0
        for entity in population.entities(entities):
            kinds[entity.kind.value] += 1
            if entity.is_branch:
                kinds["branch"] += 1
            planner.plan(entity, chunk)
            size += 1
            if size == _CHUNK:
                writer.write(chunk)
                if progress is not None:
                    progress(size)
                chunk, size = Chunk(), 0
        writer.write(chunk)
        if progress is not None and size:
            progress(size)
    return GenerationSummary(
        entities=entities,
        seed=seed,
        kinds={k: kinds[k] for k in (*(kind.value for kind in EntityKind), "branch")},
        records={feed: writer.records[feed] for feed in FEEDS},
        files=writer.paths.by_feed(),
        ground_truth=writer.paths.truth,
    )
