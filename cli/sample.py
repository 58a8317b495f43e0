"""The ``sample`` command group: generate synthetic feeds, serve the HTTP feed simulator.

Plain click, no application context: the main CLI registers :data:`sample_group`.
"""

from __future__ import annotations

from pathlib import Path

import click

from demo.feeds import FEEDS
from demo.generator import generate_feeds
from demo.simulator import run_simulator

__all__ = ["sample_group"]

_DEFAULT_FEED_FILE = Path("sample_data/http/court-dishonest-debtors.jsonl")


@click.group("sample")
def sample_group() -> None:
    """Sample data: generate synthetic feeds, serve the HTTP feed simulator."""


@sample_group.command("generate")
@click.option(
    "--entities",
    type=click.IntRange(min=1),
    required=True,
    help="Number of synthetic entities (companies, individual businesses, people).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write drops/, http/, exchange/ and ground_truth.csv into (overwritten).",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed.")
def generate_command(entities: int, out_dir: Path, seed: int) -> None:
    """Write the six demo feeds and their ground truth for a synthetic population.

    The same seed always produces the same files.
    """
    with click.progressbar(length=entities, label="Generating entities") as bar:
        summary = generate_feeds(entities=entities, out_dir=out_dir, seed=seed, progress=bar.update)
    kinds = ", ".join(f"{count} {kind}" for kind, count in summary.kinds.items())
    click.echo(f"{summary.entities} entities ({kinds}), seed {summary.seed}")
    width = max(len(feed) for feed in FEEDS)
    click.echo(f"{'feed':<{width}}  {'records':>8}  files")
    for feed in FEEDS:
        paths = summary.files[feed]
        if len(paths) > 2:
            files = f"{_relative(paths[0].parent, out_dir)}/ ({len(paths)} files)"
        else:
            files = ", ".join(_relative(path, out_dir) for path in paths)
        click.echo(f"{feed:<{width}}  {summary.records[feed]:>8}  {files}")
    click.echo(f"{'total':<{width}}  {summary.total_records:>8}  ")
    click.echo(f"ground truth: {summary.ground_truth}")


@sample_group.command("serve-feed")
@click.option(
    "--file",
    "jsonl_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=_DEFAULT_FEED_FILE,
    show_default=True,
    help="JSON-lines file of dishonest-debtor records to serve.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", type=int, default=5050, show_default=True, help="Port to listen on.")
def serve_feed_command(jsonl_path: Path, host: str, port: int) -> None:
    """Serve the court's dishonest-debtor API simulator until interrupted (Ctrl+C).

    GET /api/dishonest-debtors?updated_since=ISO&page_size=N&page_token=T pages through the
    file sorted by (updated_at, case_number); lines appended to the file appear without a
    restart.
    """
    click.echo(f"Serving {jsonl_path} at http://{host}:{port}/api/dishonest-debtors")
    run_simulator(jsonl_path=jsonl_path, host=host, port=port)


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
