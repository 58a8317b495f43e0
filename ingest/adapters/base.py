"""What every adapter hands to the processing pipeline.

An adapter yields :class:`Batch` es. The pipeline stores each batch's records *and* the batch's
``watermark`` (and file receipt) in one transaction, so a cursor never runs ahead of the data it
covers: a crash between batches re-fetches at most the batch that was not yet committed, and
re-delivered records are recognised as duplicates by their payload hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RawRecord:
    """One record as the source delivered it, with where it came from (for tracing errors).

    ``key``, when the adapter knows it, is the record's source key within its feed, whatever
    the feed's mapping says (a push item's ``source_id``, the documented key of a push)."""

    payload: dict[str, Any]
    origin: str
    key: str | None = None


@dataclass(frozen=True)
class FileReceipt:
    """A processed file drop: a file with the same name, size and hash is never processed twice."""

    name: str
    size: int
    sha256: str


@dataclass
class Batch:
    records: list[RawRecord]
    # The feed's watermark once this batch is stored; None leaves it unchanged.
    watermark: str | None = None
    receipt: FileReceipt | None = None
    # Records the adapter could not even parse (bad line in a JSON-lines file, ...): they are
    # quarantined with this reason instead of being dropped.
    unreadable: list[tuple[RawRecord, str]] = field(default_factory=list)
    # Why the file of ``receipt`` could not be read to its end (a header naming a column
    # twice, bytes of no encoding it may be in, a broken workbook): it is recorded as set
    # aside with this reason, and read again only once its content changes.
    set_aside: str | None = None


def storable_text(text: str) -> str:
    """``text`` with NUL characters written out as ``\\u0000``. An unreadable record keeps its
    raw text in quarantine, and PostgreSQL stores no NUL: shown, rather than lost or failing
    the batch."""
    return text.replace("\x00", "\\u0000")


class FetchError(RuntimeError):
    """The source failed (timeout after retries, truncated or invalid body, unreadable file).

    The batch being fetched is not stored and the watermark does not move; the run records the
    message and ends as failed.
    """
