"""The rows of each report, produced chunk by chunk: one module per report, what they share
in :mod:`app.reports.rows.context`, and :data:`ROW_SOURCES` naming each report's rows. Never
commits, never writes.

Every report's rows function takes a :class:`~app.reports.rows.context.ReportContext` and
yields lists of at most ``chunk_size`` row tuples in the order of the report's columns.
Row-level reports (records, entities, list members) read only the feeds the caller may see
(``core.rules.sharing``) and mask personal data for the caller's role (``app.reports.masking``); big
ones page through the database (streamed cursor or keyset pages), so memory holds one chunk,
not the report.

Visibility of aggregates: the penalty and list statistics count the caller's visible records
too. The data-quality and resolution reports describe feeds and the matcher (volumes, rates,
dates), not any party, and cover every feed.

Region is the entity's ``region_code``: the 6-digit administrative division the linker took
from the USCC (characters 3-8) or the resident id (first 6). A ``region`` filter is a prefix
(``11`` Beijing, ``1101`` its districts, ``110105`` Chaoyang).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from app.reports.rows.context import Chunk, ReportContext
from app.reports.rows.credit_checks import credit_checks_rows
from app.reports.rows.data_quality import data_quality_rows
from app.reports.rows.entities import entities_rows
from app.reports.rows.list_changes import list_changes_rows
from app.reports.rows.list_members import list_members_rows
from app.reports.rows.penalties import penalties_rows
from app.reports.rows.records import records_rows
from app.reports.rows.resolution import resolution_rows

__all__ = ["ROW_SOURCES"]

ROW_SOURCES: dict[str, Callable[[ReportContext], Iterator[Chunk]]] = {
    "records": records_rows,
    "entities": entities_rows,
    "penalties": penalties_rows,
    "list-members": list_members_rows,
    "list-changes": list_changes_rows,
    "data-quality": data_quality_rows,
    "resolution": resolution_rows,
    "credit-checks": credit_checks_rows,
}
