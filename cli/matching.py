"""The ``matching`` command group: train the scoring model fuzzy linking uses."""

from __future__ import annotations

import json
import time

import click
from flask.cli import with_appcontext

from app.runtime import runtime
from core.db import UnitOfWork

__all__ = ["matching_group"]


@click.group("matching")
def matching_group() -> None:
    """The matcher's scoring model: train it on the service's own records."""


@matching_group.command("train")
@click.option(
    "--max-records",
    type=click.IntRange(min=2),
    default=None,
    help="Train on at most this many accepted records (newest first; default: all).",
)
@with_appcontext
def train_command(max_records: int | None) -> None:
    """Learn m / u weights and name frequencies from the accepted records in the database
    and store the model: from now on fuzzy linking at ingest scores with it, and every link
    it decides records the model's version."""
    from ingest.training_records import accepted_match_records
    from matching.records import prepare
    from matching.training import train
    from resolution.matching_models import store_model

    started = time.perf_counter()
    with UnitOfWork(runtime().session_factory) as uow:
        records = accepted_match_records(session=uow.session, limit=max_records)
        if len(records) < 2:
            raise click.ClickException(
                f"{len(records)} accepted records in the database: nothing to train on"
            )
        model = train([prepare(r) for r in records])
        if not model.trained:
            raise click.ClickException(
                f"{len(records)} records give too few candidate pairs to learn from; "
                "the hand-set weights stay in use"
            )
        store_model(session=uow.session, model=model)
        uow.commit()
    stats = model.training
    click.echo(
        f"model {model.version} trained on {len(records)} records in "
        f"{time.perf_counter() - started:.1f} s (EM {stats.get('seconds')} s, "
        f"{stats.get('iterations')} iterations, "
        f"{'converged' if stats.get('converged') else 'NOT converged'}); stored, now in use"
    )
    click.echo(
        json.dumps({"priors": dict(model.priors), "blocked_pairs": stats.get("blocked_pairs")})
    )
