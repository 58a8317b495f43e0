"""Blocking: which pairs of records are worth comparing, without comparing all of them.

Each record gets several keys (identifiers, organization code, normalised name core and its
one-character deletions, person name + ID region / birth date, masked-ID region + tail,
phone; for persons with Latin-letter names also name words, Soundex + birth year, birth date,
birth year + postcode). Records sharing a key form a block; blocks larger than
``max_block_size`` are skipped (and reported), since a key shared by that many records says
nothing about any one pair.

:class:`BlockIndex` is incremental: records are added in batches and only pairs involving
the new records are produced, so a batch costs in proportion to its size.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .normalise import pinyin, soundex
from .records import Prepared

__all__ = ["BlockIndex", "BlockingStats", "blocking_keys"]


# Keys weaker than a code, capped at ``max_name_block_size``.
_NAME_KEYS = "NDPBLSYKIWAHQE"

# Near-miss resident ids: an id with one of these windows blanked out. Every position and
# every pair of neighbours lies inside one window, so an id with one character changed or two
# neighbours swapped shares a key with the right one; each key keeps at least 11 of the 18
# characters (the region + tail key "M" is the window 6-14), so blocks stay tiny.
_ID_WINDOWS = ((0, 7), (13, 16), (15, 18))


def _latin_person_keys(record: Prepared, keys: set[str]) -> None:
    """Keys for a person whose name is in Latin letters (no Chinese ID to lean on): the
    words in either order, each word's Soundex with the birth year, the birth date alone,
    birth year with postcode, and the two-letter starts of first and last word (in either
    order). One-character deletions of short codes are not used: at a million records the
    chance collisions of 7-digit codes would add tens of millions of pairs."""
    words = record.latin_tokens
    birth = record.birth_date
    year = f"{birth.year}" if birth is not None else ""
    keys.add("P" + " ".join(sorted(words)))
    if birth is not None:
        keys.add(f"Y{birth:%Y%m%d}")
        for word in words[:4]:
            keys.add(f"S{soundex(word)}|{year}")
        if record.postcode:
            keys.add(f"K{year}|{record.postcode}")
    if len(words) >= 2:
        keys.add("I" + "|".join(sorted((words[0][:2], words[-1][:2]))))


def blocking_keys(record: Prepared) -> set[str]:
    """The blocking keys of one record; the prefix names the key type."""
    keys: set[str] = set()
    keys.update("U" + v for v in record.usccs)
    keys.update("O" + v for v in record.org_codes)
    keys.update("R" + v for v in record.resident_ids)
    keys.update("G" + v for v in record.registration_numbers)
    keys.update("X" + v for v in record.others)
    keys.update("F" + v for v in record.flagged)
    if record.phone:
        keys.add("T" + record.phone)
    if record.is_person:
        _person_keys(record, keys)
        return keys
    company = record.company
    core = company.core
    if core:
        keys.add("N" + core)
        trade = company.trade
        # One-character deletions of the trade name meet one-character typos (not for
        # two-character trade names: one character left says little).
        if len(trade) >= 3:
            for i in range(len(trade)):
                keys.add(f"D{trade[:i]}{trade[i + 1 :]}|{company.industry}")
        if record.legal_rep:
            keys.add(f"L{record.legal_rep}|{company.industry}|{company.region[:2]}")
        # Trade names of one sound (homophones, whatever their length) in one industry.
        if trade:
            keys.add(f"E{pinyin(trade)}|{company.industry}")
        place = _address_key(record)
        if place:
            keys.add(f"Q{place}|{company.industry}")
    return keys


def _address_key(record: Prepared) -> str:
    """Street and number without the divisions (a dropped province or city still meets)."""
    address = record.address
    return address.street + address.rest if address.street else ""


def _person_keys(record: Prepared, keys: set[str]) -> None:
    """Keys of a Chinese person: region + tail and the near-miss windows of each id (valid
    or mistyped), name + birth date (as written and as pinyin), name + address."""
    name = record.person_name
    numbers = record.resident_ids | record.flagged_residents
    for number in numbers:
        keys.add(f"M{number[:6]}{number[-4:]}")
        for k, (start, end) in enumerate(_ID_WINDOWS):
            keys.add(f"W{k}{number[:start]}{number[end:]}")
        if name and number in record.resident_ids:
            keys.add(f"B{name}|{number[6:14]}")
    for mask in record.masked:
        if mask.region and mask.tail:
            keys.add(f"M{mask.region}{mask.tail}")
    if record.latin_tokens:
        if record.birth_date is not None and name:
            keys.add(f"B{name}|{record.birth_date:%Y%m%d}")
        _latin_person_keys(record, keys)
        return
    if not name:
        return
    if record.birth_date is not None:
        keys.add(f"B{name}|{record.birth_date:%Y%m%d}")
        keys.add(f"H{pinyin(name)}|{record.birth_date:%Y%m%d}")
    place = _address_key(record)
    if place:
        keys.add(f"A{name}|{place}")
    if not (record.resident_ids or record.masked):
        keys.add("P" + name)


@dataclass
class BlockingStats:
    """Counts of the last blocking run: ``skipped`` lists oversized keys with their size."""

    records: int = 0
    keys: int = 0
    blocks_used: int = 0
    pairs: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    # Per key type (its prefix letter): [blocks used, pairs offered (before removing pairs
    # another key offered too), largest block used].
    by_type: dict[str, list[int]] = field(default_factory=dict)

    def count_block(self, key_type: str, size: int, offered: int) -> None:
        row = self.by_type.setdefault(key_type, [0, 0, 0])
        row[0] += 1
        row[1] += offered
        row[2] = max(row[2], size)

    def to_dict(self) -> dict[str, object]:
        top = sorted(self.skipped.items(), key=lambda kv: -kv[1])[:20]
        skipped_by_type: dict[str, int] = {}
        for key in self.skipped:
            skipped_by_type[key[0]] = skipped_by_type.get(key[0], 0) + 1
        return {
            "records": self.records,
            "keys": self.keys,
            "blocks_used": self.blocks_used,
            "pairs": self.pairs,
            "oversized_blocks": len(self.skipped),
            "largest_skipped": dict(top),
            "by_key_type": {
                key_type: {
                    "blocks": row[0],
                    "pairs_offered": row[1],
                    "largest_block": row[2],
                    "skipped": skipped_by_type.get(key_type, 0),
                }
                for key_type, row in sorted(self.by_type.items())
            },
        }


class BlockIndex:
    """Key → record indices (ascending). Indices are positions in the caller's record list."""

    def __init__(self, max_block_size: int = 200, max_name_block_size: int = 40) -> None:
        self.max_block_size = max_block_size
        # Name keys (N, D, P, B, L) are weaker than codes, so their blocks are capped tighter.
        self.max_name_block_size = max_name_block_size
        # A key held by one record maps to its index, a shared key to the list of them: most
        # keys (name deletions, codes) belong to one record, and a list per key costs ~90 bytes.
        self._blocks: dict[str, int | list[int]] = {}
        # Keys touched since the last pairs_for call: only those blocks can hold new pairs.
        # While the index is being filled for the first time every key is new, so the set is
        # not kept (it would double the memory of the keys).
        self._touched: set[str] = set()
        self._touched_all = False
        self.size = 0

    def add(self, records: Iterable[Prepared]) -> range:
        """Index the next records (numbered from :attr:`size` on); returns their indices."""
        start = self.size
        if start == 0:
            self._touched_all = True
        blocks = self._blocks
        track = not self._touched_all
        touched = self._touched
        for record in records:
            index = self.size
            for key in blocking_keys(record):
                if track:
                    touched.add(key)
                members = blocks.get(key)
                if members is None:
                    blocks[key] = index
                elif isinstance(members, int):
                    blocks[key] = [members, index]
                else:
                    members.append(index)
            self.size += 1
        return range(start, self.size)

    def pairs_for(self, new: range, stats: BlockingStats | None = None) -> Iterator[int]:
        """Distinct pairs with at least one record in ``new`` (the last :meth:`add`), encoded
        ``i * size + j`` (``i < j``), skipping oversized blocks. Decode with :meth:`decode`
        before the next :meth:`add` (the encoding depends on :attr:`size`)."""
        stats = stats if stats is not None else BlockingStats()
        stats.records = self.size
        stats.keys = len(self._blocks)
        first = new.start
        size = self.size
        caps = {prefix: self.max_name_block_size for prefix in _NAME_KEYS}
        default_cap = self.max_block_size
        seen: set[int] = set()
        keys: Iterable[str] = list(self._blocks) if self._touched_all else self._touched
        self._touched, self._touched_all = set(), False
        blocks = self._blocks
        for key in keys:
            members = blocks[key]
            if isinstance(members, int) or members[-1] < first:
                continue
            if len(members) > caps.get(key[0], default_cap):
                stats.skipped[key] = len(members)
                continue
            stats.blocks_used += 1
            start = bisect_left(members, first)
            low, n = max(start, 1), len(members)
            stats.count_block(key[0], n, (n - 1) * n // 2 - (low - 1) * low // 2)
            for p in range(max(start, 1), len(members)):
                j = members[p]
                for q in range(p):
                    code = members[q] * size + j
                    if code not in seen:
                        seen.add(code)
                        yield code
        stats.pairs = len(seen)

    def decode(self, code: int) -> tuple[int, int]:
        return divmod(code, self.size)
