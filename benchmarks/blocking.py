"""Block sizes by key type on the project's own generator (``demo``), for the blocking design
of ``matching.blocking`` (near-miss resident ids, name + birth date, name + address, ...).

    .venv/bin/python -m benchmarks.blocking [--records 20000] [--seed 7] [--out DIR]

Prints, per key type (the prefix letter of ``matching.blocking.blocking_keys``): blocks used,
pairs offered (before removing pairs another key offered too), the largest block used and the
blocks skipped as oversized; then candidate pairs, blocking recall against the generator's
truth, and the resolver's decisions.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.credithub_runner import credithub_blocking_recall, match_records
from benchmarks.datasets import generated_chinese_table
from matching.resolve import resolve

# What each key type holds (matching.blocking).
KEY_TYPES = {
    "U": "valid USCC",
    "O": "organization code",
    "R": "valid resident id",
    "G": "registration number",
    "X": "other code",
    "F": "flagged code",
    "T": "phone",
    "M": "id region + tail (full, mistyped or masked id)",
    "W": "id with a window blanked (near-miss ids)",
    "B": "person name + birth date",
    "H": "pinyin of person name + birth date",
    "A": "person name + street address",
    "P": "person name alone (records without an id)",
    "N": "company name core",
    "D": "trade name with one character dropped + industry",
    "E": "pinyin of trade name + industry",
    "L": "legal representative + industry + province",
    "Q": "company street address + industry",
    "S": "Latin name word Soundex + birth year",
    "Y": "birth date (Latin names)",
    "K": "birth year + postcode (Latin names)",
    "I": "initials (Latin names)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="cache of generated feeds")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="credithub-blocking-"))
    table = generated_chinese_table(args.records, out, seed=args.seed)
    truth = dict(zip(table["record_id"], table["entity_key"], strict=True))
    result = resolve(match_records(table))
    stats = result.stats.to_dict()
    print(f"{'type':4} {'blocks':>8} {'pairs':>9} {'largest':>8} {'skipped':>8}  key")
    by_type = stats["by_key_type"]
    assert isinstance(by_type, dict)
    for key_type, row in by_type.items():
        print(
            f"{key_type:4} {row['blocks']:>8,} {row['pairs_offered']:>9,} "
            f"{row['largest_block']:>8,} {row['skipped']:>8,}  {KEY_TYPES.get(key_type, '?')}"
        )
    recall, _ = credithub_blocking_recall(result.state, truth)
    print(f"records {len(table):,}; keys {stats['keys']:,}; candidate pairs {stats['pairs']:,}")
    print(f"blocking recall {recall:.4f}; decisions {result.counts}")


if __name__ == "__main__":
    main()
