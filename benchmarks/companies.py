"""Companies: code-less records and trade-name variants, on the project's own generator
(``demo.population``).

    .venv/bin/python -m benchmarks.companies [--entities 20000] [--seed 7]

For every company of the demo population: record A as the registry has it (name, USCC, legal
representative, address). Each variant of issue 13 is a code-less record of one company in
turn (drawn from its own RNG), with the company's address (one in two) or else its legal
representative: a homophone or look-alike trade-name character (``demo.vocab.TYPOS``), the
name in traditional characters, 有限公司 <-> 有限责任公司, another of the company's spellings
(region leading, in brackets, or left out), stray spaces, full-width letters. Traps, each a
different entity: every tenth company gets a namesake (the name without its region, another
city's address, another legal representative, two records) that must never join it; every
branch gets a code-less record with a homophone in its trade name, which must join the branch
and never the parent. ``matching.resolve`` resolves them all; printed: each variant's share
joined to its company, wrong pairs, namesakes and branch typos joined wrongly, review pairs.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from collections.abc import Callable
from itertools import combinations

from demo import vocab
from demo.noise import to_fullwidth, to_traditional
from demo.population import EntityKind, SyntheticEntity, iter_entities
from matching.records import MatchRecord
from matching.resolve import resolve


def _homophone(entity: SyntheticEntity) -> str | None:
    brand = entity.brand
    for i, ch in enumerate(brand):
        if ch in vocab.TYPOS and brand in entity.name:
            return entity.name.replace(brand, brand[:i] + vocab.TYPOS[ch] + brand[i + 1 :], 1)
    return None


def _form(entity: SyntheticEntity) -> str | None:
    name = entity.name
    if "有限责任公司" in name:
        return name.replace("有限责任公司", "有限公司", 1)
    if "股份有限公司" not in name and "有限公司" in name:
        return name.replace("有限公司", "有限责任公司", 1)
    return None


def _spaces(entity: SyntheticEntity) -> str | None:
    name = entity.name
    return f"{name[:2]} {name[2:4]}\u3000{name[4:]}" if len(name) > 5 else None


def _fullwidth(entity: SyntheticEntity) -> str | None:
    name = entity.name
    return to_fullwidth(name) if any(ch.isascii() for ch in name) else None


def _other_spelling(entity: SyntheticEntity) -> str | None:
    return entity.alt_names[0] if entity.alt_names else None


VARIANTS: dict[str, Callable[[SyntheticEntity], str | None]] = {
    "homophone / look-alike trade name": _homophone,
    "traditional characters": lambda e: to_traditional(e.name),
    "有限公司 / 有限责任公司": _form,
    "region leading / bracketed / left out": _other_spelling,
    "stray spaces": _spaces,
    "full-width letters": _fullwidth,
}


def _records(entities: int, seed: int) -> tuple[list[MatchRecord], dict[str, str], dict[str, str]]:
    """The records, each record's entity, and each record's variant (or role)."""
    population = [e for e in iter_entities(entities, seed=seed) if e.kind is EntityKind.COMPANY]
    rng = random.Random(f"benchmarks.companies:{seed}")
    others = vocab.OTHER_DISTRICTS
    records: list[MatchRecord] = []
    truth: dict[str, str] = {}
    role: dict[str, str] = {}

    def add(record: MatchRecord, entity: str, what: str) -> None:
        records.append(record)
        truth[record.record_id] = entity
        role[record.record_id] = what

    labels = list(VARIANTS)
    for i, e in enumerate(population):
        codes = (e.uscc,) if e.uscc else ()
        add(
            MatchRecord(f"A{i}", e.name, codes=codes, legal_rep=e.legal_rep, address=e.address),
            e.key,
            "registry",
        )
        label = labels[i % len(labels)]
        variant = VARIANTS[label](e)
        if variant is not None and variant != e.name:
            shared = {"address": e.address} if rng.random() < 0.5 else {"legal_rep": e.legal_rep}
            add(MatchRecord(f"V{i}", variant, **shared), e.key, label)  # type: ignore[arg-type]
        if e.is_branch:
            typo = _homophone(e)
            if typo is not None:
                add(MatchRecord(f"Y{i}", typo, address=e.address), e.key, "branch typo")
        if i % 10 == 0 and not e.is_branch:
            bare = e.alt_names[-1] if e.alt_names else e.name
            district = rng.choice([d for d in others if d.city != e.district.city])
            address = f"{district.address_prefix}{district.streets[0]}{rng.randint(1, 199)}号"
            for k in (1, 2):
                add(
                    MatchRecord(f"N{k}-{i}", bare, address=address, legal_rep="钱思远"),
                    f"namesake-{e.key}",
                    "namesake",
                )
    return records, truth, role


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    records, truth, role = _records(args.entities, args.seed)
    result = resolve(records)
    clusters: dict[str, list[str]] = defaultdict(list)
    for record_id, cluster in result.clusters.items():
        clusters[cluster].append(record_id)
    correct = wrong = 0
    wrong_roles: dict[str, int] = defaultdict(int)
    for members in clusters.values():
        for a, b in combinations(members, 2):
            if truth[a] == truth[b]:
                correct += 1
            else:
                wrong += 1
                wrong_roles[" / ".join(sorted((role[a], role[b])))] += 1
    registry = {truth[r.record_id]: r.record_id for r in records if role[r.record_id] == "registry"}
    print(f"companies: {len(registry)}; records {len(records)}")
    for label in [*VARIANTS, "branch typo", "namesake"]:
        mine = [r.record_id for r in records if role[r.record_id] == label]
        if label == "namesake":
            own = sum(result.clusters[r] == result.clusters[f"N2-{r.split('-')[1]}"] for r in mine)
            print(f"namesake records joined to each other: {own}/{len(mine)}")
            continue
        joined = sum(result.clusters[r] == result.clusters[registry[truth[r]]] for r in mine)
        print(
            f"{label} joined its company: {joined}/{len(mine)} = {joined / max(len(mine), 1):.4f}"
        )
    print(f"pairs: correct {correct}, wrong {wrong} {dict(wrong_roles)}")
    print(f"review pairs {result.counts['unsure']}; counts {result.counts}")


if __name__ == "__main__":
    main()
