"""CreditHub's side of the matching benchmark: ``MatchRecord`` objects from a benchmark table,
the matcher to time (``matching.resolve.resolve``, or a labelled exact-identifier baseline when
that module is missing), what it reports about itself, and its blocking recall.

Project modules are imported inside the functions, so a phase process loads only what its
system needs.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from benchmarks.scoring import pair_recall

__all__ = [
    "credithub_blocking_recall",
    "credithub_matcher",
    "exact_identifier_baseline",
    "match_records",
]


def match_records(table: Any) -> list[Any]:
    """``matching.records.MatchRecord`` objects from a benchmark table."""
    from matching.records import MatchRecord

    code_columns = ("uscc", "org_code", "registration_number", "id_number", "code")
    columns = ["record_id", "name", "kind", "legal_rep", "address", "birth_date", "postcode"]
    # Column by column (a list of Python strings each) rather than row tuples: faster, and
    # works the same on NumPy-object and Arrow-backed string columns.
    # Through NumPy: ``tolist`` of an Arrow-backed column iterates it in Python (8x slower).
    values = [table[c].to_numpy(dtype=object).tolist() for c in (*columns, *code_columns)]
    # A phone column where the data set has one (the held-out generator's).
    phones = (
        table["phone"].to_numpy(dtype=object).tolist()
        if "phone" in table.columns
        else [""] * len(table)
    )
    records = []
    # A million small objects without cycles: the cyclic collector's passes are pure cost.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for phone, (record_id, name, kind, rep, address, birth, postcode, *codes) in zip(
            phones, zip(*values, strict=True), strict=True
        ):
            records.append(
                MatchRecord(
                    record_id=record_id,
                    name=name,
                    kind=kind or None,
                    codes=tuple(c for c in codes if c),
                    legal_rep=rep or None,
                    address=address or None,
                    birth_date=birth or None,
                    postcode=postcode or None,
                    phone=phone or None,
                )
            )
    finally:
        if was_enabled:
            gc.enable()
    return records


def exact_identifier_baseline(table: Any) -> dict[str, str]:
    """Baseline: records sharing any identifier key of ``matching.exact.party_keys`` (exact
    USCC, resident id, registration number, organization code, other or flagged code, masked
    id with the same name) are one entity (union-find). Names alone never link."""
    from matching.exact import party_keys

    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    owner: dict[tuple[str, str, str | None], str] = {}
    columns = ["record_id", "name", "uscc", "org_code", "registration_number", "id_number", "code"]
    for row in table[columns].itertuples(index=False):
        record_id = row.record_id
        parent[record_id] = record_id
        keys = party_keys(
            {
                "party_name": row.name,
                "uscc": row.uscc,
                "org_code": row.org_code,
                "registration_number": row.registration_number,
                "id_number": row.id_number,
                "code": row.code,
            }
        )
        for key in keys.keys:
            if key.rule == "exact_name":
                continue
            token = (key.id_type, key.value, key.name)
            other = owner.setdefault(token, record_id)
            if other != record_id:
                a, b = find(other), find(record_id)
                if a != b:
                    parent[b] = a
    return {record_id: find(record_id) for record_id in parent}


def credithub_matcher(
    *, trained: bool = True
) -> tuple[str, Callable[[Any], tuple[Any, dict[str, Any]]]]:
    """``(label, run)``: the real matcher if ``matching.resolve`` exists, else the baseline.
    ``trained``: weights learned from the data set first (``matching.training``, as
    ``credithub resolve`` does; inside the timed run), else the hand-set ones."""
    try:
        from matching.resolve import resolve
    except ModuleNotFoundError as exc:
        if exc.name not in ("matching.resolve", "matching"):
            raise

        def run_baseline(table: Any) -> tuple[Any, dict[str, Any]]:
            if isinstance(table, dict):
                table = table.pop("table")
            return exact_identifier_baseline(table), {}

        return "BASELINE exact identifiers (matching.exact.party_keys union)", run_baseline

    def run_resolve(table: Any) -> tuple[Any, dict[str, Any]]:
        if isinstance(table, dict):  # a holder the caller emptied: the frame is ours to free
            table = table.pop("table")
        records = match_records(table)
        del table  # the matcher works from its own records (at 1M the frame is ~0.5 GB)
        stats: dict[str, Any] = {}
        if trained and _has_training():
            from matching.parallel import prepare_all
            from matching.training import TrainingOptions

            # As `credithub resolve` does: prepared first (the raw records freed: at a million
            # records they are hundreds of MB), trained on the comparisons resolving makes.
            workers = _workers()
            records = prepare_all(records, workers=workers)
            result = resolve(records, training=TrainingOptions(), workers=workers)
            model = result.state.model
            stats = {"model": model.version, "training_seconds": model.training["seconds"]}
        else:
            result = resolve(records)
        if not hasattr(result, "clusters") and not isinstance(result, Mapping):
            result = list(result)  # a generator of clusters
        return result, {**_reported_stats(result), **stats}

    label = "matching.resolve.resolve" + (
        " (trained weights)" if trained and _has_training() else " (hand-set weights)"
    )
    return label, run_resolve


def _workers() -> int:
    """Processes for the matcher: CREDITHUB_MATCHING_WORKERS, else one (as `credithub
    resolve`'s default)."""
    import os

    value = os.environ.get("CREDITHUB_MATCHING_WORKERS", "").strip()
    return int(value) if value else 1


def _has_training() -> bool:
    try:
        import matching.training  # noqa: F401
    except ModuleNotFoundError:
        return False
    return True


def credithub_blocking_recall(state: Any, truth: Mapping[str, Hashable]) -> tuple[float, int]:
    """Blocking recall of the matcher's candidate pairs (``matching.blocking.BlockIndex`` over
    the prepared records a ``Resolver`` holds, with its config's caps), measured after the timed
    run, and the number of candidate pairs."""
    from matching.blocking import BlockIndex

    config = state.config
    index = BlockIndex(config.max_block_size, config.max_name_block_size)
    new = index.add(state.records)
    ids = [r.record_id for r in state.records]
    codes = index.pairs_for(new)
    return pair_recall(truth, ((ids[i], ids[j]) for i, j in map(index.decode, codes)))


def _reported_stats(result: Any) -> dict[str, Any]:
    """What the matcher reports about itself, when it does: its algorithm, blocking counts
    (``stats``: keys, blocks used, candidate pairs, oversized keys skipped) and ``counts``."""
    stats: dict[str, Any] = {}
    algorithm = getattr(result, "algorithm", None)
    if isinstance(algorithm, str):
        stats["algorithm"] = algorithm
    for attribute, prefix in (("stats", "blocking_"), ("counts", "count_")):
        value = getattr(result, attribute, None)
        if value is None:
            continue
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        if not isinstance(value, Mapping):
            continue
        for key, item in value.items():
            if isinstance(item, bool | int | float | str):
                stats[f"{prefix}{key}"] = item
            elif isinstance(item, Mapping | list | tuple):
                stats[f"{prefix}{key}_count"] = len(item)
    if "blocking_pairs" in stats:
        stats["candidate_pairs"] = stats["blocking_pairs"]
    return stats
