"""``credithub report NAME [filters] --format F --out FILE --as-role ROLE``.

Who the command acts as: the shell user already holds the database credentials, so a token
would prove nothing more; what matters is which role's view (visibility and masking) the file
gets and that the trail says who took it. ``--as-role`` (analyst or regulator, required: no
default role, so nobody gets unmasked data by accident) chooses the view, and the audit event
names the actor ``cli:<login name>`` (or ``--actor``) with that role.
"""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.reports.filters import ReportError
from app.reports.registry import FORMATS, REPORTS
from app.reports.services import REPORT_ROLES, export_report, list_reports, parse_filters
from app.runtime import runtime, today
from core.db import UnitOfWork
from core.models import ApiClient, Role

_SUFFIX_FORMATS = {f".{f}": f for f in FORMATS}


def _default_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@click.command("report")
@click.argument("name", required=False)
@click.option("--list", "show_list", is_flag=True, help="List the reports and their filters.")
@click.option("--from", "date_from", help="From date (ISO), included.")
@click.option("--to", "date_to", help="To date (ISO), included.")
@click.option("--region", help="Division code prefix (2-6 digits).")
@click.option("--department", help="Department code.")
@click.option("--category", help="Record category.")
@click.option("--severity", help="minor, general or serious.")
@click.option("--list-type", "list_type", help="black or red.")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), help="Default: from --out's suffix, else csv."
)
@click.option("--out", "out", help="File to write ('-' for standard output).")
@click.option(
    "--as-role",
    "role",
    type=click.Choice(sorted(r.value for r in REPORT_ROLES)),
    help="Whose view the file gets (visibility and masking); required for an export.",
)
@click.option("--actor", default=_default_actor, help="Name in the audit trail [cli:<user>].")
@with_appcontext
def report_command(
    name: str | None,
    show_list: bool,
    date_from: str | None,
    date_to: str | None,
    region: str | None,
    department: str | None,
    category: str | None,
    severity: str | None,
    list_type: str | None,
    fmt: str | None,
    out: str | None,
    role: str | None,
    actor: str,
) -> None:
    """Export report NAME (see --list) with filters, audited as --actor with --as-role.

    The file appears only once complete (written beside it, then renamed): a failed export
    never leaves half a file or replaces an existing one.
    """
    if show_list or name is None:
        for spec in list_reports():
            chart = ", chart" if spec.has_chart else ""
            click.echo(f"{spec.name:<14} {spec.title_en} / {spec.title_zh}{chart}")
            click.echo(f"{'':<14} filters: {', '.join(spec.filters)}")
        if name is None and not show_list:
            raise click.UsageError("give a report NAME (or --list)")
        return
    if out is None:
        raise click.UsageError("--out FILE is required ('-' for standard output)")
    if role is None:
        raise click.UsageError("--as-role is required (analyst or regulator)")
    if fmt is None:
        fmt = _SUFFIX_FORMATS.get(Path(out).suffix.lower(), "csv")
    params = {
        "from": date_from,
        "to": date_to,
        "region": region,
        "department": department,
        "category": category,
        "severity": severity,
        "list_type": list_type,
        "format": fmt,
    }
    principal = ApiClient(name=actor[:200], role=Role(role))
    with UnitOfWork(runtime().session_factory) as uow:
        try:
            filters, fmt = parse_filters(name, params)
            export = export_report(
                session=uow.session,
                client=principal,
                name=name,
                filters=filters,
                fmt=fmt,
                today=today(),
                grade_rules=runtime().rules.grade,
            )
        except ReportError as exc:
            raise click.UsageError(_message(exc)) from exc
        uow.commit()  # the audit event: kept even if writing fails below
        size = _write(export.chunks, out)
    if out != "-":
        click.echo(f"{name}: {size:,} bytes of {fmt} written to {out}", err=True)


def _message(exc: ReportError) -> str:
    details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
    return f"{exc.message} {details}".strip() if details else exc.message


def _write(chunks: object, out: str) -> int:
    size = 0
    if out == "-":
        for piece in chunks:  # type: ignore[attr-defined]
            sys.stdout.buffer.write(piece)
            size += len(piece)
        sys.stdout.buffer.flush()
        return size
    target = Path(out)
    if target.parent and not target.parent.exists():
        raise click.UsageError(f"folder {target.parent} does not exist")
    descriptor, partial = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".part"
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            for piece in chunks:  # type: ignore[attr-defined]
                handle.write(piece)
                size += len(piece)
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return size


__all__ = ["REPORTS", "report_command"]
