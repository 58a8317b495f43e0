"""Both cores for the two costly per-item steps of a batch run: preparing the records and
comparing the candidate pairs (together about two thirds of ``credithub resolve``'s time).

The work is cut into as many contiguous slices as there are workers; the calling process does
the first slice itself while forked processes do the others, and the slices are joined in
order, so the result is exactly the serial one (a test checks it). Workers are forked: they
inherit the records and the blocking index, nothing but slice bounds is sent to them, and only
their results (prepared records, or the pairs' levels as bytes) come back.

Only where ``fork`` exists (Linux, macOS) and only when asked (``workers > 1``): forking a
process that runs other threads (the web service, the scheduler) is unsafe, so the service
keeps the serial path; the CLI (``--workers``) and the benchmark
(``CREDITHUB_MATCHING_WORKERS``) ask for it. At 20,000 records on a 2-core machine one process
was faster (two pools started and stopped, prepared records pickled back), so they default
to one; at a million records two workers ran in 226 s. Written with the standard
library's ``multiprocessing``: joblib or loky would pickle the records to the workers.
"""

from __future__ import annotations

import multiprocessing
import os
from array import array
from collections.abc import Callable, Sequence
from typing import Any

from .model import compare_all, quick_rule
from .pair_levels import PairLevels, level_code, level_vocabulary
from .records import MatchRecord, Prepared, prepare

__all__ = ["MIN_ITEMS", "compare_codes", "default_workers", "prepare_all"]

# Below this many records (or pairs) per worker, forking costs more than it saves.
MIN_ITEMS = 1_000

# The workers' slices go back in pieces of at most this many items: half a million prepared
# records in one message were a ~250 MB pickle held next to its unpickled copy (the peak of a
# million-record run went over 4 GB).
MAX_PIECE = 50_000

# What the forked workers read: set just before the pool is made, so they inherit it.
_shared: dict[str, Any] = {}


def default_workers() -> int:
    """The processes a batch run uses by default: the cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on every platform
        return max(1, os.cpu_count() or 1)


def _can_fork(workers: int, items: int, min_slice: int) -> bool:
    return (
        workers > 1 and items >= 2 * min_slice and "fork" in multiprocessing.get_all_start_methods()
    )


def _bounds(items: int, workers: int, min_slice: int) -> list[tuple[int, int]]:
    workers = max(1, min(workers, items // max(1, min_slice)))
    step = -(-items // workers)
    return [(s, min(s + step, items)) for s in range(0, items, step)]


def _pieces(bounds: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [
        (s, min(s + MAX_PIECE, stop))
        for start, stop in bounds
        for s in range(start, stop, MAX_PIECE)
    ]


def _run_sliced(
    items: int,
    workers: int,
    min_slice: int,
    job: Callable[[int, int], Any],
    shared: dict[str, Any],
) -> list[Any]:
    """``job(start, stop)`` over the slices, the first here and the others (in pieces of at
    most :data:`MAX_PIECE`) in forked processes; the results in order."""
    bounds = _bounds(items, workers, min_slice)
    _shared.update(shared)
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(len(bounds) - 1) as pool:
            pending = [pool.apply_async(job, piece) for piece in _pieces(bounds[1:])]
            first = job(*bounds[0])
            return [first, *(p.get() for p in pending)]
    finally:
        _shared.clear()


# --------------------------------------------------------------------------- preparing


def _prepare_slice(start: int, stop: int) -> list[Prepared]:
    records = _shared["records"]
    return [r if isinstance(r, Prepared) else prepare(r) for r in records[start:stop]]


def prepare_all(
    records: Sequence[MatchRecord | Prepared], *, workers: int = 1, min_slice: int = MIN_ITEMS
) -> list[Prepared]:
    """:func:`matching.records.prepare` of every record (records prepared already are taken
    as they are), in order, on up to ``workers`` processes of ``min_slice`` records or more
    each."""
    if not _can_fork(workers, len(records), min_slice):
        return [r if isinstance(r, Prepared) else prepare(r) for r in records]
    shared = {"records": records}
    parts = _run_sliced(len(records), workers, min_slice, _prepare_slice, shared)
    return [record for part in parts for record in part]


# --------------------------------------------------------------------------- comparing


def _compare_slice(start: int, stop: int) -> tuple[PairLevels, int, list[str]]:
    """The levels of the pairs ``codes[start:stop]`` the identifier rule does not decide,
    how many it decided, and this process's level names (codes are given per process)."""
    records, codes = _shared["records"], _shared["codes"]
    progress = _shared["progress"] if start == 0 else None
    size = len(records)
    pairs = PairLevels()
    ruled = 0
    for n, code in enumerate(codes[start:stop], start=1):
        i, j = divmod(code, size)
        left, right = records[i], records[j]
        if quick_rule(left, right) is not None:
            ruled += 1
            continue
        pairs.add(i, j, left, right, compare_all(left, right))
        if progress is not None and n % 100_000 == 0:
            progress("compare", n)
    return pairs, ruled, level_vocabulary()


def compare_codes(
    records: Sequence[Prepared],
    codes: array[int],
    *,
    workers: int = 1,
    min_slice: int = MIN_ITEMS,
    progress: Callable[[str, int], None] | None = None,
) -> tuple[PairLevels, int]:
    """The levels of the candidate pairs ``codes`` (``i * len(records) + j``, as
    :meth:`matching.blocking.BlockIndex.pairs_for` gives them) that the identifier rule does
    not decide, in the order of ``codes``, and the number it decides (negative at once); on
    up to ``workers`` processes of ``min_slice`` pairs or more each."""
    shared = {"records": records, "codes": codes, "progress": progress}
    if not _can_fork(workers, len(codes), min_slice):
        _shared.update(shared)
        try:
            pairs, ruled, _ = _compare_slice(0, len(codes))
        finally:
            _shared.clear()
        return pairs, ruled
    parts = _run_sliced(len(codes), workers, min_slice, _compare_slice, shared)
    joined = PairLevels()
    ruled = 0
    for part, part_ruled, names in parts:
        # A worker may have met a level name first and coded it differently: recode its bytes.
        table = bytes(level_code(name) for name in names) + bytes(range(len(names), 256))
        joined.extend(part, table)
        ruled += part_ruled
    return joined, ruled
