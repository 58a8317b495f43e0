"""What storing records produced: the counts of a batch or run, and what became of each
delivered record (the push API reports those item by item)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from core.models import IngestRun


@dataclass
class Counts:
    """fetched = accepted + duplicate + updated + quarantined, for every batch and run."""

    fetched: int = 0
    accepted: int = 0
    duplicate: int = 0
    updated: int = 0
    quarantined: int = 0
    linked: int = 0
    new_entities: int = 0

    def add_to(self, run: IngestRun) -> None:
        for f in fields(self):
            setattr(run, f.name, (getattr(run, f.name) or 0) + getattr(self, f.name))

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class ItemOutcome:
    """What became of one delivered record (the push API reports these per item)."""

    origin: str
    source_key: str
    status: str  # accepted / duplicate / updated / rejected
    errors: dict[str, Any] | None = None
    entity_id: str | None = None
