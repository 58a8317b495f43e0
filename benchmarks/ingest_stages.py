"""Where an ingest run's time goes, read from its cProfile stats (``benchmarks.ingest
--profile``): the cumulative time of each pipeline stage and of the database driver's calls.

Under cProfile, Python-heavy stages look slower than they are (every call is timed), so the
shares say where to look, and the run without the profiler says how fast it is."""

from __future__ import annotations

import pstats
from pathlib import Path

# (stage, file the function lives in, function), in pipeline order. Nested stages (the lock
# is inside "read candidates") are shown indented.
STAGES = (
    ("store_batch (everything of a batch)", "ingest/pipeline/store.py", "store_batch"),
    ("  prepare (payload, hash, mapping)", "ingest/pipeline/plan.py", "prepare_records"),
    ("  validate", "ingest/pipeline/plan.py", "validate_records"),
    ("  read stored keys", "ingest/pipeline/plan.py", "load_key_states"),
    ("  plan", "ingest/pipeline/plan.py", "plan_records"),
    ("  write source records", "ingest/pipeline/store.py", "_write_source_records"),
    ("  read candidates", "ingest/pipeline/credits_and_links.py", "_start_linking"),
    ("    new-code locks", "ingest/pipeline/link_locks.py", "lock_new_codes"),
    ("  link in memory", "ingest/pipeline/credits_and_links.py", "_credit_and_link"),
    (
        "  write entities, links, credits",
        "ingest/pipeline/credits_and_links.py",
        "_write_links_and_credits",
    ),
    ("commit", "core/db.py", "commit"),
)
# The linking engine's parts (inside the stages above and inside relinking) and the training
# check after each feed run (the service path, ``python -m benchmarks.service_path``).
ENGINE_STAGES = (
    ("read candidates (blocks, records)", "resolution/record_matching.py", "prefetch"),
    ("  their entities and members", "resolution/record_matching.py", "_load_entities"),
    ("decide (score, cluster rules)", "resolution/record_matching.py", "decide"),
    ("write entities, views, links", "resolution/linking.py", "flush"),
    ("training check after a run", "ingest/auto_training.py", "_train_if_due"),
    ("  read the records to train on", "ingest/training_records.py", "accepted_match_records"),
    ("  train (EM)", "matching/training.py", "train"),
    ("  relink with the new model", "ingest/auto_training.py", "relink_pending"),
)
# The driver's own calls (time spent in or waiting for the database).
_DRIVER_CALLS = (
    ("psycopg/cursor.py", "execute"),
    ("psycopg/cursor.py", "executemany"),
    ("psycopg/cursor.py", "copy"),
    ("psycopg/connection.py", "commit"),
    ("~", "<method 'execute' of 'sqlite3.Cursor' objects>"),
    ("~", "<method 'executemany' of 'sqlite3.Cursor' objects>"),
    ("~", "<method 'commit' of 'sqlite3.Connection' objects>"),
)


def stage_seconds(profile: Path) -> dict[str, float]:
    """Cumulative seconds by stage (``STAGES``), and ``database driver`` for the driver's
    calls, from the stats written to ``profile``."""
    stats = pstats.Stats(str(profile)).stats  # type: ignore[attr-defined]
    found: dict[str, float] = {}
    driver = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        for stage, suffix, function in (*STAGES, *ENGINE_STAGES):
            if name == function and filename.endswith(suffix):
                found[stage] = found.get(stage, 0.0) + cumulative
        if any(name == f and filename.endswith(s) for s, f in _DRIVER_CALLS):
            driver += cumulative
    found["database driver (all calls)"] = driver
    return found


def print_stages(stages: dict[str, float], seconds: float) -> None:
    """The stages as a table: seconds under the profiler and the share of the run."""
    total = sum(v for k, v in stages.items() if k.startswith("store_batch")) or seconds
    print(f"  time by stage under cProfile ({total:.1f} s in store_batch):")
    for stage, _suffix, _function in STAGES:
        if stage in stages:
            print(f"    {stage:<40}{stages[stage]:>8.1f} s {stages[stage] / total:>6.0%}")
    driver = stages["database driver (all calls)"]
    print(f"    {'database driver (all calls)':<40}{driver:>8.1f} s {driver / total:>6.0%}")


def print_engine_stages(stages: dict[str, float], total: float) -> None:
    """The linking engine's parts and the training check (``ENGINE_STAGES``) as shares of
    ``total`` seconds under the profiler."""
    print(f"  linking engine and training under cProfile (share of {total:.1f} s):")
    for stage, _suffix, _function in ENGINE_STAGES:
        if stage in stages:
            print(f"    {stage:<40}{stages[stage]:>8.1f} s {stages[stage] / total:>6.0%}")
