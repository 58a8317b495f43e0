"""Persons by name and birth date, on the project's own generator (``demo.population``).

    .venv/bin/python -m benchmarks.persons [--entities 20000] [--seed 7]

For every natural person of the demo population: record A carries the name and the resident
id; record B the name and the birth date that id carries (every other one also the gender);
every tenth person also gets a record C with the name alone. ``matching.resolve`` then
resolves them all. What counts: B joining its own A (recall of name + birth date), pairs of
records of two different persons in one cluster (wrong pairs; those between persons the
generator gave the same resident id are counted apart, as a generator artefact), and C joining
anyone (a name alone must not link).
"""

from __future__ import annotations

import argparse
from collections import Counter
from itertools import combinations

from demo.population import EntityKind, iter_entities
from matching.records import MatchRecord
from matching.resident_ids import resident_id_birth_date, resident_id_sex
from matching.resolve import resolve


def _records(entities: int, seed: int) -> tuple[list[MatchRecord], dict[str, int], list[str]]:
    """The A / B / C records, each record's person, and each person's resident id."""
    ids = [
        e.resident_id or ""
        for e in iter_entities(entities, seed=seed)
        if e.kind is EntityKind.NATURAL_PERSON
    ]
    names = [
        e.name for e in iter_entities(entities, seed=seed) if e.kind is EntityKind.NATURAL_PERSON
    ]
    records: list[MatchRecord] = []
    truth: dict[str, int] = {}
    for i, (name, number) in enumerate(zip(names, ids, strict=True)):
        born = resident_id_birth_date(number)
        sex = resident_id_sex(number) if i % 2 else None
        person = {"name": name, "kind": "natural_person"}
        records.append(MatchRecord(record_id=f"A{i}", codes=(number,), **person))
        records.append(MatchRecord(record_id=f"B{i}", birth_date=born, gender=sex, **person))
        truth[f"A{i}"] = truth[f"B{i}"] = i
        if i % 10 == 0:
            records.append(MatchRecord(record_id=f"C{i}", **person))
            truth[f"C{i}"] = i
    return records, truth, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    records, truth, ids = _records(args.entities, args.seed)
    result = resolve(records)
    clusters: dict[str, list[str]] = {}
    for record_id, cluster in result.clusters.items():
        clusters.setdefault(cluster, []).append(record_id)
    correct = wrong = same_id = 0
    for members in clusters.values():
        for a, b in combinations(members, 2):
            if truth[a] == truth[b]:
                correct += 1
            elif ids[truth[a]] == ids[truth[b]]:
                same_id += 1
            else:
                wrong += 1
    persons = len(ids)
    joined = sum(result.clusters[f"B{i}"] == result.clusters[f"A{i}"] for i in range(persons))
    alone = [f"C{i}" for i in range(0, persons, 10)]
    name_only = sum(len(clusters[result.clusters[c]]) > 1 for c in alone)
    shared_ids = sum(1 for n in Counter(ids).values() if n > 1)
    print(f"persons: {persons} (names held by more than one: {_shared_names(records)})")
    print(f"name + birth date joined its person: {joined}/{persons} = {joined / persons:.4f}")
    print(f"name alone joined anyone: {name_only}/{len(alone)}")
    print(f"pairs: correct {correct}, wrong {wrong}, between persons of one generated id {same_id}")
    print(f"generator: {shared_ids} resident ids issued to two persons; counts {result.counts}")


def _shared_names(records: list[MatchRecord]) -> int:
    names = Counter(r.name for r in records if r.record_id.startswith("A"))
    return sum(1 for n in names.values() if n > 1)


if __name__ == "__main__":
    main()
