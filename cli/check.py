"""``credithub check FILE --matter M --out FILE --as-role ROLE [--department CODE]``: a batch
credit check of a CSV of identifiers (``app.credit_checks.batch``), with a progress bar.

Who the command acts as, as for ``credithub report``: the shell user holds the database
already, so what matters is whose view the checks get (visibility and masking) and that the
trail names them: ``--as-role`` (department or regulator, required), ``--department`` (the
department a department-role check is made for; its own not-shared feeds count), audited as
``cli:<login name>`` (or ``--actor``). The output file appears only once complete; the
checks are committed every few hundred rows, so an interrupted run keeps those it answered.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.credit_checks.batch import csv_stream, read_items
from app.entities.services import viewer_for
from app.runtime import runtime, today
from cli.report import _default_actor
from core.db import UnitOfWork
from core.errors import ServiceRefused
from core.models import ApiClient, Department, Role

_ROLES = (Role.DEPARTMENT.value, Role.REGULATOR.value)


@click.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--matter", required=True, help="Matter code from the measures file.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reference", help="Case number for rows without their own reference.")
@click.option("--as-role", "role", required=True, type=click.Choice(_ROLES))
@click.option("--department", help="Department code (needed with --as-role department).")
@click.option("--actor", default=_default_actor, help="Name in the audit trail [cli:<user>].")
@with_appcontext
def check_command(
    file: Path,
    matter: str,
    out: Path,
    reference: str | None,
    role: str,
    department: str | None,
    actor: str,
) -> None:
    """Check every identifier of FILE (CSV with an 'identifier' column) for --matter and
    write one result line per row to --out."""
    if role == Role.DEPARTMENT.value and not department:
        raise click.UsageError("--as-role department needs --department CODE")
    if not out.parent.exists():
        raise click.UsageError(f"folder {out.parent} does not exist")
    total = _count_rows(file)
    with UnitOfWork(runtime().session_factory) as uow:
        principal = ApiClient(name=actor[:200], role=Role(role))
        if department:
            found = uow.session.scalar(select(Department).where(Department.code == department))
            if found is None:
                raise click.UsageError(f"no department has the code {department!r}")
            principal.department_id = found.id
        viewer = viewer_for(session=uow.session, client=principal, today=today())
        descriptor, partial = tempfile.mkstemp(
            dir=out.parent, prefix=f".{out.name}.", suffix=".part"
        )
        try:
            with (
                open(file, encoding="utf-8-sig", newline="") as source,
                os.fdopen(descriptor, "wb") as target,
                click.progressbar(length=total, label="Checking", file=sys.stderr) as bar,
            ):
                chunks = csv_stream(
                    session=uow.session,
                    viewer=viewer,
                    book=runtime().measures,
                    grade_rules=runtime().rules.grade,
                    matter=matter,
                    reference=reference,
                    items=read_items(source),
                    commit=uow.commit,
                    progress=bar.update,
                )
                for piece in chunks:
                    target.write(piece)
            os.replace(partial, out)
        except ServiceRefused as exc:
            Path(partial).unlink(missing_ok=True)
            details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items())
            raise click.UsageError(f"{exc.message} {details}".strip()) from exc
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    click.echo(f"{total:,} rows checked for {matter}, results in {out}", err=True)


def _count_rows(file: Path) -> int:
    """Data lines of the file (for the progress bar; blank lines are skipped later too)."""
    with open(file, encoding="utf-8-sig", errors="replace") as handle:
        return max(sum(1 for line in handle if line.strip()) - 1, 0)
