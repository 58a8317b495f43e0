"""`python -m benchmarks.heldout`: generate a held-out set, run `credithub resolve` on it as a
black box (a subprocess, so nothing of the matcher is imported here), and score it."""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.heldout.records import COLUMNS, Record, generate
from benchmarks.heldout.scoring import conflicting_clusters, pairwise, strong_identifier

ROOT = Path(__file__).resolve().parents[2]

# The column mapping the README documents: every code column counts as a code.
RESOLVE_MAPPING = (
    "name=name",
    "code=code+id_number",
    "legal_rep=legal_rep",
    "address=address",
    "birth_date=birth_date",
    "phone=phone",
)


def write_csv(records: list[Record], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(record.row() for record in records)


def resolve_command(input_csv: Path, output_csv: Path) -> list[str]:
    """The CLI through the current interpreter (the venv's), entry point `cli.main:main`."""
    command = [sys.executable, "-c", "from cli.main import main; main()", "resolve"]
    command += [str(input_csv), "--out", str(output_csv), "--quiet"]
    command += ["--id-column", "record_id", "--kind-column", "kind"]
    for mapping in RESOLVE_MAPPING:
        command += ["--map", mapping]
    return command


def run_resolver(input_csv: Path, output_csv: Path) -> tuple[float, str]:
    """Run the matcher; returns wall seconds and its stdout (its one-line summary)."""
    # The CLI makes an (empty) instance folder; keep it beside the data, not in the checkout.
    instance = output_csv.parent / "instance"
    env = dict(os.environ, PYTHONPATH=str(ROOT), CREDITHUB_INSTANCE_PATH=str(instance))
    started = time.perf_counter()
    done = subprocess.run(
        resolve_command(input_csv, output_csv),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"credithub resolve failed with exit code {done.returncode}")
    return elapsed, done.stdout.strip()


def read_clusters(output_csv: Path) -> dict[str, str]:
    with output_csv.open(encoding="utf-8", newline="") as handle:
        return {row["record_id"]: row["entity_id"] for row in csv.DictReader(handle)}


def review_count(summary: str) -> int | None:
    """The questions for review the resolver's summary names (`… N entity pairs would go to
    review …`; before the review queue became one item per pair of entities it said `… N
    pairs would go to review …`, counting record pairs); None if it names none."""
    found = re.search(r"(\d+) (?:entity )?pairs? would go to review", summary)
    return int(found.group(1)) if found else None


def unsure_pair_count(summary: str) -> int | None:
    """The raw unsure record pairs the summary names (`… N unsure record pairs …`), or None."""
    found = re.search(r"(\d+) unsure record pairs?", summary)
    return int(found.group(1)) if found else None


def evaluate(records: list[Record], predicted: dict[str, str]) -> dict[str, float | int]:
    truth = {r.record_id: r.true_entity for r in records}
    scores = pairwise(predicted, truth)
    strong = ((r.record_id, strong_identifier(r.code, r.id_number)) for r in records)
    return {
        "precision": round(scores.precision, 4),
        "recall": round(scores.recall, 4),
        "f1": round(scores.f1, 4),
        "true_positive_pairs": scores.true_positives,
        "predicted_pairs": scores.predicted_pairs,
        "true_pairs": scores.true_pairs,
        "records": len(records),
        "entities": len(set(truth.values())),
        "clusters": len(set(predicted.values())),
        "conflicting_clusters": conflicting_clusters(predicted, strong),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.heldout", description=__doc__)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("heldout-out"))
    args = parser.parse_args(argv)
    records = generate(args.records, args.seed)
    input_csv = args.out / f"heldout-{args.records}-{args.seed}.csv"
    output_csv = args.out / f"heldout-{args.records}-{args.seed}.resolved.csv"
    write_csv(records, input_csv)
    seconds, summary = run_resolver(input_csv.resolve(), output_csv.resolve())
    result: dict[str, object] = {"seed": args.seed, **evaluate(records, read_clusters(output_csv))}
    result["review_pairs"] = review_count(summary)
    result["unsure_pairs"] = unsure_pair_count(summary)
    result["resolve_seconds"] = round(seconds, 2)
    print(f"data set          {input_csv}")
    print(f"resolver said     {summary}")
    keys = ("records", "entities", "clusters", "precision", "recall", "f1", "review_pairs")
    for key in (*keys, "unsure_pairs"):
        print(f"{key:<18}{result[key]}")
    print(f"{'wall time (s)':<18}{result['resolve_seconds']}")
    print(f"{'conflicting clusters (two valid USCCs or resident ids)':<18} "
          f"{result['conflicting_clusters']}")  # fmt: skip
    print(json.dumps(result, ensure_ascii=False))
    return 0
