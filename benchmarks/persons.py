"""Persons by name and birth date, on the project's own generator (``demo.population``).

    .venv/bin/python -m benchmarks.persons [--entities 20000] [--seed 7]

For every natural person of the demo population: record A carries the name, the resident id
and a home address; record B the name and the birth date that id carries (every other one also
the gender); every tenth person also gets a record C with the name alone. The variants of
issue 13 (drawn from their own RNG, so A / B / C stay as they were): every third person a
record D with the name and the id mistyped (one digit changed or two neighbours swapped: it
fails its check); every fifth an E with the name in traditional characters and the birth date;
every seventh an F with one given-name character replaced by a homophone or look-alike
(``demo.vocab.TYPOS``), the birth date and the masked id; every fourth a G with the name and
the home address alone. ``matching.resolve`` then resolves them all. What counts: each kind of
record joining its own A, pairs of records of two different persons in one cluster (wrong
pairs; those between persons the generator gave the same resident id are counted apart, as a
generator artefact), C joining anyone (a name alone must not link), and clusters holding two
different valid resident ids (must be none).
"""

from __future__ import annotations

import argparse
import random
from collections import Counter, defaultdict
from itertools import combinations

from stdnum.cn import ric

from demo import vocab
from demo.noise import masked_id, to_traditional
from demo.population import EntityKind, SyntheticEntity, iter_entities
from matching.records import MatchRecord
from matching.resident_ids import resident_id_birth_date, resident_id_sex
from matching.resolve import resolve

KINDS = {
    "B": "name + birth date",
    "D": "name + mistyped id",
    "E": "traditional name + birth date",
    "F": "homophone / look-alike name + birth date + masked id",
    "G": "name + home address",
}


def _mistyped(number: str, rng: random.Random) -> str:
    """``number`` with one digit changed or two neighbours swapped, failing its check."""
    while True:
        position = rng.randrange(17)
        if rng.random() < 0.5:
            digits = "0123456789".replace(number[position], "")
            typo = number[:position] + rng.choice(digits) + number[position + 1 :]
        else:
            typo = (
                number[:position] + number[position + 1] + number[position] + number[position + 2 :]
            )
        if typo != number and not ric.is_valid(typo):
            return typo


def _homophone(name: str) -> str | None:
    for i in range(len(name) - 1, 0, -1):
        if name[i] in vocab.TYPOS:
            return name[:i] + vocab.TYPOS[name[i]] + name[i + 1 :]
    return None


def _variants(
    i: int, person: SyntheticEntity, home: str, rng: random.Random
) -> list[tuple[str, dict[str, object]]]:
    number = person.resident_id or ""
    born = resident_id_birth_date(number)
    found: list[tuple[str, dict[str, object]]] = []
    if i % 3 == 0:
        found.append(("D", {"codes": (_mistyped(number, rng),)}))
    if i % 5 == 1:
        found.append(("E", {"name": to_traditional(person.name), "birth_date": born}))
    homophone = _homophone(person.name)
    if i % 7 == 2 and homophone:
        masked = (masked_id(number, keep_birth=False),)
        found.append(("F", {"name": homophone, "birth_date": born, "codes": masked}))
    if i % 4 == 3:
        found.append(("G", {"address": home}))
    return found


def _records(entities: int, seed: int) -> tuple[list[MatchRecord], dict[str, int], list[str]]:
    """The records, each record's person, and each person's resident id."""
    persons = [e for e in iter_entities(entities, seed=seed) if e.kind is EntityKind.NATURAL_PERSON]
    rng = random.Random(f"benchmarks.persons:{seed}")
    records: list[MatchRecord] = []
    truth: dict[str, int] = {}
    for i, person in enumerate(persons):
        number = person.resident_id or ""
        born = resident_id_birth_date(number)
        sex = resident_id_sex(number) if i % 2 else None
        district = person.district
        home = f"{district.address_prefix}{rng.choice(district.streets)}{rng.randint(1, 199)}号"
        base = {"name": person.name, "kind": "natural_person"}
        rows = [
            ("A", {"codes": (number,), "address": home}),
            ("B", {"birth_date": born, "gender": sex}),
        ]
        if i % 10 == 0:
            rows.append(("C", {}))
        rows += _variants(i, person, home, rng)
        for kind, fields in rows:
            record_id = f"{kind}{i}"
            records.append(MatchRecord(record_id=record_id, **{**base, **fields}))  # type: ignore[arg-type]
            truth[record_id] = i
    return records, truth, [p.resident_id or "" for p in persons]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    records, truth, ids = _records(args.entities, args.seed)
    result = resolve(records)
    clusters: dict[str, list[str]] = defaultdict(list)
    for record_id, cluster in result.clusters.items():
        clusters[cluster].append(record_id)
    correct = wrong = same_id = 0
    for members in clusters.values():
        for a, b in combinations(members, 2):
            if truth[a] == truth[b]:
                correct += 1
            elif ids[truth[a]] == ids[truth[b]]:
                same_id += 1
            else:
                wrong += 1
    two_ids = sum(
        1
        for members in clusters.values()
        if len({ids[truth[m]] for m in members if m.startswith("A")}) > 1
    )
    persons = len(ids)
    print(f"persons: {persons} (names held by more than one: {_shared_names(records)})")
    for kind, label in KINDS.items():
        mine = [r.record_id for r in records if r.record_id.startswith(kind)]
        joined = sum(result.clusters[r] == result.clusters[f"A{r[1:]}"] for r in mine)
        print(f"{label} joined its person: {joined}/{len(mine)} = {joined / len(mine):.4f}")
    alone = [f"C{i}" for i in range(0, persons, 10)]
    name_only = sum(len(clusters[result.clusters[c]]) > 1 for c in alone)
    shared_ids = sum(1 for n in Counter(ids).values() if n > 1)
    print(f"name alone joined anyone: {name_only}/{len(alone)}")
    print(f"pairs: correct {correct}, wrong {wrong}, between persons of one generated id {same_id}")
    print(f"clusters holding two different valid resident ids: {two_ids}")
    print(f"generator: {shared_ids} resident ids issued to two persons; counts {result.counts}")


def _shared_names(records: list[MatchRecord]) -> int:
    names = Counter(r.name for r in records if r.record_id.startswith("A"))
    return sum(1 for n in names.values() if n > 1)


if __name__ == "__main__":
    main()
