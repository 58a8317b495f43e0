"""Splink's side of the matching benchmark (DuckDB backend): the preprocessing a careful
Splink user would do, the settings for the Chinese feeds and for FEBRL 4, and one training and
prediction run.

Splink is imported inside the functions: it is a bench extra (``.venv-bench``), and the
CreditHub phase never needs it.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = [
    "SPLINK_THRESHOLD",
    "run_splink",
    "splink_chinese_input",
    "splink_chinese_settings",
    "splink_febrl_input",
    "splink_febrl_settings",
]

# Splink: pairs scored at or above this match probability are linked (then connected
# components). Fixed beforehand at the conventional 0.9, not tuned on the ground truth.
SPLINK_THRESHOLD = 0.9


def _null_if_empty(frame: Any) -> Any:
    return frame.replace("", None)


def _clean_codes(series: Any) -> Any:
    return series.str.normalize("NFKC").str.upper().str.replace(r"[^0-9A-Z*]", "", regex=True)


def splink_chinese_input(table: Any) -> Any:
    """The preprocessing a careful Splink user would do on the Chinese feeds: NFKC and
    whitespace removal on names, codes cleaned (case, full-width, spaces, hyphens), the
    18-character code (USCC or resident id) and the 9-character organization code (from a
    USCC, an old organization code or a 15-character taxpayer number) in their own columns."""
    import pandas as pd

    def text(series: Any) -> Any:
        return series.str.normalize("NFKC").str.replace(r"\s+", "", regex=True)

    frame = pd.DataFrame({"unique_id": table["record_id"]})
    frame["name_n"] = text(table["name"]).str.replace("（", "(").str.replace("）", ")")
    codes = {c: _clean_codes(table[c]) for c in ("uscc", "id_number", "code", "org_code")}
    main_id = pd.Series("", index=table.index)
    masked = pd.Series("", index=table.index)
    for column in ("uscc", "id_number", "code"):
        value = codes[column]
        is_masked = value.str.contains("*", regex=False)
        main_id = main_id.mask((main_id == "") & (value.str.len() == 18) & ~is_masked, value)
        masked = masked.mask((masked == "") & is_masked, value)
    org9 = main_id.str[8:17].where(main_id.str.len() == 18, "")
    org9 = org9.mask(table["kind"] == "natural_person", "")
    org9 = org9.mask((org9 == "") & (codes["org_code"].str.len() == 9), codes["org_code"])
    taxpayer = codes["code"].where(codes["code"].str.len() == 15, "")
    org9 = org9.mask((org9 == "") & (taxpayer != ""), taxpayer.str[6:15])
    frame["main_id"] = main_id
    frame["masked_id"] = masked
    frame["org9"] = org9
    frame["reg_no"] = _clean_codes(table["registration_number"])
    frame["legal_rep_n"] = text(table["legal_rep"])
    frame["address_n"] = text(table["address"])
    frame["birth_date"] = table["birth_date"]
    return _null_if_empty(frame)


def splink_chinese_settings() -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("main_id"),
            block_on("org9"),
            block_on("reg_no"),
            block_on("name_n"),
            block_on("masked_id"),
            block_on("legal_rep_n", "substr(name_n, 1, 2)"),
            block_on("birth_date", "substr(name_n, 1, 1)"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("name_n", [0.95, 0.88, 0.7]),
            cl.LevenshteinAtThresholds("main_id", [1, 2]),
            cl.ExactMatch("org9"),
            cl.ExactMatch("reg_no"),
            cl.ExactMatch("masked_id"),
            cl.JaroWinklerAtThresholds("legal_rep_n", [0.9]),
            cl.ExactMatch("birth_date"),
            cl.JaroWinklerAtThresholds("address_n", [0.9, 0.7]),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def splink_febrl_input(table: Any) -> Any:
    from benchmarks.datasets import FEBRL_COLUMNS

    frame = table[["record_id", *FEBRL_COLUMNS]].rename(columns={"record_id": "unique_id"})
    return _null_if_empty(frame)


def splink_febrl_settings() -> Any:
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("soc_sec_id"),
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("substr(given_name, 1, 2)", "substr(surname, 1, 2)"),
            block_on("substr(date_of_birth, 1, 4)", "postcode"),
            block_on("surname", "substr(date_of_birth, 1, 4)"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("surname", [0.92, 0.8]),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.LevenshteinAtThresholds("postcode", [1, 2]),
            cl.ExactMatch("state"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def run_splink(table: Any, dataset: str) -> tuple[dict[str, str], dict[str, Any], Any]:
    """Train and run Splink; ``(record id -> cluster id, stats, predictions)``."""
    from splink import DuckDBAPI, Linker, block_on

    if dataset.startswith("febrl"):
        frame = splink_febrl_input(table)
        settings = splink_febrl_settings()
        deterministic = [block_on("given_name", "surname", "date_of_birth")]
        em_rules = [block_on("given_name", "surname"), block_on("date_of_birth")]
    else:
        frame = splink_chinese_input(table)
        settings = splink_chinese_settings()
        deterministic = [block_on("main_id"), block_on("name_n", "legal_rep_n")]
        em_rules = [block_on("main_id"), block_on("name_n")]
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=42)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=SPLINK_THRESHOLD
    )
    assigned = clusters.query_sql("select unique_id, cluster_id from {this}").as_pandas_dataframe()
    labels = dict(zip(assigned["unique_id"].astype(str), assigned["cluster_id"], strict=True))
    return labels, {"threshold_match_probability": SPLINK_THRESHOLD}, predictions
