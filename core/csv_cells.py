"""CSV cells that a spreadsheet will not run as formulas (CSV / formula injection).

Excel, LibreOffice and Google Sheets treat a cell starting with ``=``, ``+``, ``-`` or ``@``
as a formula (``=HYPERLINK(...)`` leaks data, ``=cmd|' /C calc'!A0`` runs a program), and a
leading tab or carriage return only hides such a start from a reader's eye. Party names, titles
and reasons come from departments' feeds and the public, so every text cell of every CSV the
project writes goes through :func:`neutralise_formula`: OWASP's advice, a leading ``'`` that
the spreadsheet shows as text and does not evaluate.

Only text is prefixed: a numeric column (a fine of ``-5``) stays a number. A *text* cell that
merely looks like a number (``-5`` as a party name) is still prefixed: it is text, and the
spreadsheet cannot tell ``-5`` from ``-5+cmd|...`` by anything the writer controls.
Written by hand: the ``csv`` module and the libraries we use have no such option.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: str) -> str:
    """``value`` with a leading ``'`` if a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def neutralise_rows(
    rows: Iterable[Sequence[Any]], text_columns: Sequence[int]
) -> Iterator[Sequence[Any]]:
    """``rows`` with the string cells at ``text_columns`` neutralised; other cells (numbers,
    dates, None) untouched. A row needing no change is passed on as it is (exports write
    millions of rows, nearly all of them harmless)."""
    for row in rows:
        if any(
            isinstance(value := row[i], str) and value.startswith(FORMULA_STARTS)
            for i in text_columns
        ):
            fixed = list(row)
            for i in text_columns:
                if isinstance(value := fixed[i], str):
                    fixed[i] = neutralise_formula(value)
            yield fixed
        else:
            yield row
