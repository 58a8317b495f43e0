"""Batch credit checks: a CSV of identifiers (a bidders' list) in, a CSV of results out.

In: UTF-8 CSV (a byte-order mark is fine) with a header naming an ``identifier`` column and,
optionally, a ``reference`` column (the department's case number per row; the batch's own
reference otherwise). Every row becomes one stored, audited check
(:func:`app.credit_checks.services.check_party`); a row that cannot be checked (a blank or
over-long identifier) is answered ``invalid`` with the reason, never dropped, so the output has
one line per input row, in order.

Out: one CSV line per row (``OUTPUT_COLUMNS``), written as the checks are made, so a caller
can stream it; text cells go through ``core.csv_cells`` (no spreadsheet formulas). The owner of
the transaction (the API view, the CLI) commits between chunks of rows: a batch broken off
keeps the checks already answered.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.credit_checks.services import check_party
from app.entities.present import Viewer, text_for
from core.csv_cells import neutralise_formula
from core.errors import ServiceRefused
from core.models import ApiClient
from core.rules.measures import MeasureBook
from core.rules.settings import GradeRules

MAX_IDENTIFIER = 300
OUTPUT_COLUMNS = (
    "row",
    "identifier",
    "outcome",
    "check_id",
    "public_id",
    "name",
    "grade",
    "lists",
    "punishments",
    "rewards",
    "measure_names",
    "candidates",
    "error",
)


class BatchRefused(ServiceRefused):
    """The file is not a CSV with an ``identifier`` column."""

    status = 422


@dataclass(frozen=True)
class BatchItem:
    row: int  # 1-based data row (the header is row 0)
    identifier: str
    reference: str | None


def read_items(lines: Iterable[str]) -> Iterator[BatchItem]:
    """The rows of a CSV given as text lines, read as they are iterated. Raises
    :class:`BatchRefused` at once (not at the first item) when the header has no
    ``identifier`` column."""
    reader = csv.reader(_without_bom(lines))
    header = [h.strip().lower() for h in next(reader, [])]
    if "identifier" not in header:
        raise BatchRefused(
            "The CSV needs a header line with an 'identifier' column.",
            errors={
                "file": [f"needs an 'identifier' column in its header; header read: {header[:10]}"]
            },
        )
    ref_at = header.index("reference") if "reference" in header else None
    return _items(reader, header.index("identifier"), ref_at)


def _items(reader: Iterator[list[str]], at: int, ref_at: int | None) -> Iterator[BatchItem]:
    for number, cells in enumerate(reader, start=1):
        if not any(c.strip() for c in cells):
            continue
        identifier = cells[at].strip() if at < len(cells) else ""
        reference = cells[ref_at].strip() if ref_at is not None and ref_at < len(cells) else ""
        yield BatchItem(number, identifier, reference or None)


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    first = True
    for line in lines:
        yield line.removeprefix("\ufeff") if first else line
        first = False


def check_items(
    *,
    session: Session,
    viewer: Viewer,
    book: MeasureBook,
    grade_rules: GradeRules,
    matter: str,
    reference: str | None,
    items: Iterable[BatchItem],
) -> Iterator[list[Any]]:
    """One output row (``OUTPUT_COLUMNS``) per item, checking each as it goes."""
    for item in items:
        problem = _problem(item.identifier)
        if problem:
            shown = text_for(viewer, item.identifier[:MAX_IDENTIFIER])
            yield [item.row, shown, "invalid", *[""] * 9, problem]
            continue
        check = check_party(
            session=session,
            viewer=viewer,
            book=book,
            grade_rules=grade_rules,
            identifier=item.identifier,
            matter=matter,
            reference=item.reference or reference,
        )
        yield _output_row(item.row, check.id, check.result)


def _problem(identifier: str) -> str | None:
    if not identifier:
        return "no identifier"
    if len(identifier) > MAX_IDENTIFIER or "\x00" in identifier:
        return f"identifier longer than {MAX_IDENTIFIER} characters or not text"
    return None


def _output_row(row: int, check_id: int, result: dict[str, Any]) -> list[Any]:
    entity = result.get("entity") or {}
    measures = result.get("measures", [])
    return [
        row,
        result["identifier"],
        result["outcome"],
        check_id,
        entity.get("public_id", ""),
        entity.get("display_name", ""),
        (result.get("grade") or {}).get("letter", ""),
        ";".join(m["list_name"] or "" for m in result.get("lists", [])),
        ";".join(m["code"] for m in measures if m["kind"] == "punishment"),
        ";".join(m["code"] for m in measures if m["kind"] == "reward"),
        ";".join(m["name"] for m in measures),
        ";".join(c["public_id"] for c in result.get("candidates", [])),
        "",
    ]


BATCH_COMMIT_ROWS = 200


def standing_viewer(viewer: Viewer) -> Viewer:
    """``viewer`` with a transient copy of its client: a batch commits as it goes, and a
    commit expires the session's objects, which a streamed body (outliving the request's
    session) can no longer reload."""
    client = viewer.client
    if client is None:
        return viewer
    copy = ApiClient(
        id=client.id, name=client.name, role=client.role, department_id=client.department_id
    )
    return dataclasses.replace(viewer, client=copy)


def csv_stream(
    *,
    session: Session,
    viewer: Viewer,
    book: MeasureBook,
    grade_rules: GradeRules,
    matter: str,
    reference: str | None,
    items: Iterable[BatchItem],
    commit: Callable[[], None],
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The output CSV (UTF-8 with a byte-order mark, for spreadsheets) as the checks are
    made, calling ``commit`` (the transaction owner's) every ``BATCH_COMMIT_ROWS`` rows and
    at the end, then ``progress`` with the number of rows just committed."""
    lines = ["\ufeff" + csv_line(list(OUTPUT_COLUMNS))]
    rows = check_items(
        session=session,
        viewer=viewer,
        book=book,
        grade_rules=grade_rules,
        matter=matter,
        reference=reference,
        items=items,
    )
    done = 0
    for row in rows:
        lines.append(csv_line(row))
        done += 1
        if done == BATCH_COMMIT_ROWS:
            commit()
            if progress is not None:
                progress(done)
            yield "".join(lines).encode("utf-8")
            lines, done = [], 0
    commit()
    if progress is not None:
        progress(done)
    yield "".join(lines).encode("utf-8")


def csv_line(row: list[Any]) -> str:
    """One CSV line (CRLF), text cells safe from spreadsheet formulas."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        [neutralise_formula(v) if isinstance(v, str) else v for v in row]
    )
    return buffer.getvalue()
