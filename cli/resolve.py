"""``credithub resolve``: deduplicate any CSV with the matcher the service uses."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import click

CANONICAL = (
    "name",
    "code",
    "legal_rep",
    "address",
    "suburb",
    "state",
    "birth_date",
    "gender",
    "postcode",
    "phone",
)
# Parts of an address kept in columns of their own (FEBRL's suburb and state): the matcher
# compares them as the end of the address, after the street (the order an address is read in).
ADDRESS_PARTS = ("address", "suburb", "state")
_KINDS = {
    "legal_entity": "legal_entity",
    "individual_business": "individual_business",
    "natural_person": "natural_person",
    "other_organization": "other_organization",
    # Spellings feeds use for the double-publicity party types.
    "01": "natural_person",
    "02": "legal_entity",
    "03": "other_organization",
    "04": "individual_business",
    "自然人": "natural_person",
    "法人": "legal_entity",
    "个体工商户": "individual_business",
    "person": "natural_person",
    "company": "legal_entity",
}


def parse_maps(maps: tuple[str, ...], header: list[str]) -> dict[str, list[str]]:
    """``FIELD=COL[+COL...]`` options over the default: columns named like canonical fields.

    Raises ``click.BadParameter`` for an unknown field or a column the file does not have.
    """
    mapping = {name: [name] for name in CANONICAL if name in header}
    for item in maps:
        field, sep, columns = item.partition("=")
        field = field.strip()
        if not sep or field not in CANONICAL:
            raise click.BadParameter(
                f"{item!r}: use FIELD=COL[+COL...] with FIELD one of {', '.join(CANONICAL)}"
            )
        parts = [c.strip() for c in columns.split("+") if c.strip()]
        missing = [c for c in parts if c not in header]
        if not parts or missing:
            raise click.BadParameter(f"{item!r}: no column {missing or columns!r} in the file")
        mapping[field] = parts
    if "name" not in mapping and "code" not in mapping:
        raise click.BadParameter("map at least name or code (e.g. --map name=company_name)")
    return mapping


def _read_records(
    reader: csv.DictReader[str],
    mapping: dict[str, list[str]],
    id_column: str | None,
    kind_column: str | None,
    quiet: bool,
    record_type: Any,
    default_kind: str | None = None,
) -> list[Any]:
    from tqdm import tqdm

    records: list[Any] = []
    seen: set[str] = set()
    bar = tqdm(desc="reading", unit=" rec", disable=quiet)
    try:
        for number, row in enumerate(reader, start=1):
            record_id = (row.get(id_column) or "").strip() if id_column else str(number)
            if not record_id or record_id in seen:
                raise click.ClickException(
                    f"row {number}: record id {record_id!r} is empty or repeated"
                )
            seen.add(record_id)

            def joined(field: str, row: dict[str, str] = row) -> str | None:
                values = [(row.get(c) or "").strip() for c in mapping.get(field, [])]
                return " ".join(v for v in values if v) or None

            codes = tuple(
                value
                for value in ((row.get(c) or "").strip() for c in mapping.get("code", []))
                if value
            )
            kind = None
            if kind_column:
                kind = _KINDS.get((row.get(kind_column) or "").strip().lower())
            # A row's own kind wins; --kind says what the rest are (a file of one kind only).
            kind = kind or default_kind
            records.append(
                record_type(
                    record_id=record_id,
                    name=joined("name") or "",
                    kind=kind,
                    codes=codes,
                    legal_rep=joined("legal_rep"),
                    address=" ".join(p for p in map(joined, ADDRESS_PARTS) if p) or None,
                    birth_date=joined("birth_date"),
                    gender=joined("gender"),
                    postcode=joined("postcode"),
                    phone=joined("phone"),
                )
            )
            bar.update()
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"the file does not decode as declared: {exc}") from exc
    finally:
        bar.close()
    return records


def _prepared(records: list[Any], workers: int | None, quiet: bool) -> tuple[list[Any], int]:
    """The records prepared, and the processes used (``workers``, else one: at 20,000 records
    forking cost more than it saved, measured on a 2-core machine)."""
    from matching.parallel import prepare_all

    workers = workers or 1
    if not quiet:
        click.echo(f"preparing {len(records):,} records on {workers} process(es)", err=True)
    return prepare_all(records, workers=workers), workers


@click.command("resolve")
@click.argument("input_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_csv", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--id-column", help="Column holding the record id (default: the row number).")
@click.option(
    "--map",
    "maps",
    multiple=True,
    help="FIELD=COL[+COL...] (fields: name, code, legal_rep, address, suburb, state, "
    "birth_date, gender, postcode, phone); several columns are joined, several code columns "
    "all count as codes, suburb and state are compared as the end of the address.",
)
@click.option("--kind-column", help="Column telling the kind (company / person / 01-04 ...).")
@click.option(
    "--kind",
    "default_kind",
    type=click.Choice(["person", "company"]),
    help="The kind of every record whose kind column is missing, empty or unknown (a file of "
    "persons, such as FEBRL, or of companies).",
)
@click.option("--encoding", default="auto", show_default=True, help="utf-8, gbk, ... or auto.")
@click.option(
    "--model",
    "model_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Score with this saved model (see --save-model) instead of training on the input.",
)
@click.option(
    "--default-weights",
    is_flag=True,
    help="Score with the hand-set default weights instead of training on the input.",
)
@click.option(
    "--save-model",
    "save_model",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the model used to this JSON file. It lists the names that several parties "
    "of the input share (with their frequencies): keep it as you keep the input.",
)
@click.option(
    "--reviews",
    "reviews_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the questions for review to this JSON-lines file, one a line: the two "
    "entities, how many unsure record pairs lie between them, and the strongest of those "
    "pairs explained field by field.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes that prepare and compare the records (default 1; more pays on large "
    "inputs when cores are idle); the result is the same for any number.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def resolve_command(
    input_csv: Path,
    out_csv: Path,
    id_column: str | None,
    maps: tuple[str, ...],
    kind_column: str | None,
    default_kind: str | None,
    encoding: str,
    model_file: Path | None,
    default_weights: bool,
    save_model: Path | None,
    reviews_file: Path | None,
    workers: int | None,
    quiet: bool,
) -> None:
    """Deduplicate INPUT_CSV; writes record_id,entity_id,confidence, one row per record.

    The weights are learned from INPUT_CSV itself (m / u by expectation-maximisation, name
    frequencies) unless --model or --default-weights says otherwise. The summary counts the
    questions for review: one per pair of entities with an unsure record pair between them."""
    from tqdm import tqdm

    from matching.resolve import resolve
    from matching.training import TrainingOptions

    if model_file is not None and default_weights:
        raise click.UsageError("--model and --default-weights exclude each other")

    records = _records_from_csv(
        input_csv, encoding, maps, id_column, kind_column, default_kind, quiet
    )
    prepared, workers = _prepared(records, workers, quiet)
    # Only the ids are written back: the raw records go (hundreds of MB at a million).
    ids, count = [r.record_id for r in records], len(records)
    del records
    model = _loaded_model(model_file, default_weights)
    stage_bar = tqdm(desc="resolving", unit="", disable=quiet)
    # Without a model, the weights are learned from the comparisons resolve makes anyway.
    result = resolve(
        prepared,
        None if model is None else model.config(),
        progress=lambda stage, count: stage_bar.set_postfix_str(f"{stage} {count}"),
        training=TrainingOptions() if model is None else None,
        workers=workers,
    )
    stage_bar.close()
    how = f"loaded from {model_file}" if model_file is not None else "hand-set default weights"
    if model is None:
        model = result.state.model
        how = _how_trained(model, count)
    if save_model is not None:
        save_model.write_text(model.to_json(), encoding="utf-8")

    _write_clusters(out_csv, ids, result)
    _write_reviews(reviews_file, result)
    entities = len(set(result.clusters.values()))
    click.echo(f"model {model.version} ({how})")
    click.echo(f"{count} records -> {entities} entities; {_review_summary(result, count)}; "
               f"written to {out_csv}")  # fmt: skip


def _records_from_csv(
    input_csv: Path,
    encoding: str,
    maps: tuple[str, ...],
    id_column: str | None,
    kind_column: str | None,
    default_kind: str | None,
    quiet: bool,
) -> list[Any]:
    """The file's rows as match records, read in the chosen (or detected) encoding."""
    from ingest.adapters.base import FetchError
    from ingest.adapters.file_drop import choose_encoding
    from matching.records import MatchRecord

    try:
        chosen = choose_encoding(input_csv, encoding)
    except FetchError as exc:
        raise click.ClickException(str(exc)) from exc
    with input_csv.open("r", encoding=chosen, newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        reader.fieldnames = header
        mapping = parse_maps(maps, header)
        for column in (id_column, kind_column):
            if column and column not in header:
                raise click.BadParameter(f"no column {column!r} in the file")
        return _read_records(
            reader,
            mapping,
            id_column,
            kind_column,
            quiet,
            MatchRecord,
            default_kind=_KINDS[default_kind] if default_kind else None,
        )


def _review_summary(result: Any, records: int) -> str:
    """How many questions a regulator would have (``matching.review_queue``: one per pair of
    entities with an unsure pair between them) and what became of the raw unsure pairs."""
    queue = result.review_queue()
    share = 100 * len(queue) / records if records else 0.0
    return (
        f"{len(queue)} entity pairs would go to review ({share:.2f}% of records; "
        f"{queue.unsure_pairs} unsure record pairs: {queue.settled} settled by other links, "
        f"{queue.kept_apart} kept apart by a rule or a reviewer)"
    )


def _write_reviews(path: Path | None, result: Any) -> None:
    """One JSON object a line for each question of ``result.review_queue()``, strongest
    first (nothing without a path)."""
    if path is None:
        return
    with path.open("w", encoding="utf-8") as out:
        for item in result.review_queue():
            out.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")


def _loaded_model(model_file: Path | None, default_weights: bool) -> Any:
    """The model to score with: loaded from ``model_file``, the hand-set defaults, or None
    (train on the input). Raises ``click.ClickException`` for a bad model file."""
    from matching.match_model import MatchModel, default_model

    if model_file is not None:
        try:
            return MatchModel.from_json(model_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise click.ClickException(f"{model_file}: {exc}") from exc
    return default_model() if default_weights else None


def _how_trained(model: Any, records: int) -> str:
    stats = model.training
    if not model.trained:
        return "too few candidate pairs to learn from: hand-set default weights"
    converged = "converged" if stats.get("converged") else "NOT converged"
    return (
        f"trained on {records} records in {stats.get('seconds')} s, "
        f"{stats.get('iterations')} EM iterations, {converged}"
    )


def _write_clusters(out_csv: Path, ids: list[str], result: Any) -> None:
    """``record_id,entity_id,confidence``, one row per record, in input order."""
    from core.csv_cells import neutralise_formula

    with out_csv.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["record_id", "entity_id", "confidence"])
        for record_id in ids:
            # Ids come from the input file: one reading "=HYPERLINK(...)" must not run when
            # the output is opened in a spreadsheet.
            writer.writerow(
                [
                    neutralise_formula(record_id),
                    neutralise_formula(result.clusters[record_id]),
                    f"{result.confidence[record_id]:.4f}",
                ]
            )
