"""The reports CreditHub exports: their names, titles, columns, filters and charts.

A report is a table with fixed columns (so an empty export still has its header, and every
writer knows each column's type before the first row arrives). ``filters`` names the filters
the report understands; any other filter is refused (422), never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["text", "int", "money", "float", "percent", "date", "datetime", "bool"]

# Every filter a report may take, in the order forms and docs list them.
ALL_FILTERS = ("from", "to", "region", "department", "category", "severity", "list_type")
# Formats of the table; ``png`` (the chart) is asked for the same way but is not a table format.
TABLE_FORMATS = ("csv", "xlsx", "parquet", "json")
CHART_FORMAT = "png"
FORMATS = (*TABLE_FORMATS, CHART_FORMAT)


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "text"
    description: str = ""


@dataclass(frozen=True)
class ChartSpec:
    """A monthly trend: ``bars`` summed per ``x`` value on the left axis, ``line`` (if any) on
    the right axis. Rows with the same ``x`` (other departments, regions, lists) are summed."""

    x: str
    bars: tuple[str, ...]
    line: str | None = None
    y_label: str = "count"
    line_label: str = ""


@dataclass(frozen=True)
class ReportSpec:
    name: str
    title_zh: str
    title_en: str
    description: str
    filters: tuple[str, ...]
    columns: tuple[Column, ...]
    chart: ChartSpec | None = None
    # Personal data in its rows (names, codes, free text): masked for roles without full ids.
    personal: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def has_chart(self) -> bool:
        return self.chart is not None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def as_dict(self) -> dict[str, object]:
        """What ``GET /api/v1/reports`` lists for each report."""
        return {
            "name": self.name,
            "title_zh": self.title_zh,
            "title_en": self.title_en,
            "description": self.description,
            "filters": list(self.filters),
            "formats": list(FORMATS if self.has_chart else TABLE_FORMATS),
            "has_chart": self.has_chart,
            "columns": [c.name for c in self.columns],
        }


_ENTITY_COLUMNS = (
    Column("entity_id", description="public id (survivor of merges)"),
    Column("entity_name", description="natural persons' names masked unless regulator"),
    Column("entity_code", description="USCC, else resident id (masked unless regulator)"),
    Column("entity_kind"),
    Column("region_code", description="6-digit administrative division code"),
)

RECORDS = ReportSpec(
    name="records",
    title_zh="信用记录明细",
    title_en="Credit records",
    description=(
        "One row per credit record the caller may see (every status; 'status' is the "
        "effective status today), with its entity, department and feed."
    ),
    filters=ALL_FILTERS,
    columns=(
        Column("record_id", "int"),
        *_ENTITY_COLUMNS,
        Column("department_code"),
        Column("department_name"),
        Column("feed_code"),
        Column("category"),
        Column("subtype"),
        Column("severity"),
        Column("status", description="effective status: active past publicity is expired"),
        Column("decision_number"),
        Column("title"),
        Column("decision_date", "date"),
        Column("publicity_end", "date"),
        Column("fine_amount", "money"),
        Column("list_name"),
        Column("grade"),
        Column("authority_name"),
    ),
    personal=True,
)

CATEGORY_COUNT_COLUMNS = (
    "licensing",
    "penalty",
    "list_entry",
    "red_list",
    "tax_grade",
    "customs_rating",
    "registry",
)

ENTITIES = ReportSpec(
    name="entities",
    title_zh="主体信用状况",
    title_en="Entities and their current status",
    description=(
        "One row per entity: credit grade today, black and red lists it is on, and counts of "
        "its visible records by category. Record filters (dates, department, category, "
        "severity) choose which records are counted and keep entities with at least one; "
        "the grade and lists always use every visible record in force."
    ),
    filters=ALL_FILTERS,
    columns=(
        *_ENTITY_COLUMNS,
        Column("grade", description="A-D credit grade today (docs/credit-grade.md)"),
        Column("black_lists"),
        Column("red_lists"),
        Column("records_total", "int"),
        *(Column(f"records_{c}", "int") for c in CATEGORY_COUNT_COLUMNS),
        Column("penalties_in_force", "int"),
    ),
    personal=True,
)

PENALTIES = ReportSpec(
    name="penalties",
    title_zh="行政处罚统计",
    title_en="Penalty statistics",
    description=(
        "Penalties decided per month, department and region (the entity's 6-digit division "
        "code), by severity, with fine and confiscation totals; every status counts."
    ),
    filters=("from", "to", "region", "department", "severity"),
    columns=(
        Column("month"),
        Column("department_code"),
        Column("department_name"),
        Column("region_code"),
        Column("penalties", "int"),
        Column("serious", "int"),
        Column("general", "int"),
        Column("minor", "int"),
        Column("entities", "int", "distinct entities penalised"),
        Column("fine_total", "money"),
        Column("confiscated_total", "money"),
    ),
    chart=ChartSpec(
        x="month",
        bars=("penalties",),
        line="fine_total",
        y_label="penalties",
        line_label="fines (CNY)",
    ),
)

LIST_MEMBERS = ReportSpec(
    name="list-members",
    title_zh="黑红名单当前成员",
    title_en="Black and red list members now",
    description=(
        "One row per entity and list it is on today (in-force black-list and red-list "
        "entries, and an advanced-certification customs rating as the latest rating)."
    ),
    filters=("from", "to", "region", "department", "list_type"),
    columns=(
        *_ENTITY_COLUMNS,
        Column("list_kind", description="black or red"),
        Column("list_name"),
        Column("listed_on", "date"),
        Column("authority_name"),
        Column("department_code"),
        Column("reason"),
        Column("record_id", "int"),
    ),
    personal=True,
)

LIST_CHANGES = ReportSpec(
    name="list-changes",
    title_zh="黑红名单增减趋势",
    title_en="List additions and removals over time",
    description=(
        "Per month and list: entries added (listing date) and removed (removal date, or the "
        "end of publicity once passed)."
    ),
    filters=("from", "to", "region", "department", "list_type"),
    columns=(
        Column("month"),
        Column("list_kind"),
        Column("list_name"),
        Column("added", "int"),
        Column("removed", "int"),
        Column("net", "int"),
    ),
    chart=ChartSpec(x="month", bars=("added", "removed"), y_label="list entries"),
)

DATA_QUALITY = ReportSpec(
    name="data-quality",
    title_zh="数据质量",
    title_en="Data quality per feed",
    description=(
        "Per catalogued feed: ingest volumes and rejects (runs in the date range), rejects by "
        "reason, link rate, freshness of the last successful run against the catalogue's "
        "update cycle, the quarantine backlog, decision numbers the feed gave to more than "
        "one party (two records, flagged, never merged) and the files set aside unread."
    ),
    filters=("from", "to", "department", "category"),
    columns=(
        Column("feed_code"),
        Column("feed_name"),
        Column("department_code"),
        Column("category"),
        Column("sharing_type"),
        Column("enabled", "bool"),
        Column("update_cycle"),
        Column("runs", "int"),
        Column("failed_runs", "int"),
        Column("fetched", "int"),
        Column("accepted", "int"),
        Column("duplicate", "int"),
        Column("updated", "int"),
        Column("rejected", "int"),
        Column("reject_rate", "percent"),
        Column("stored_records", "int"),
        Column("linked_records", "int"),
        Column("link_rate", "percent"),
        Column("last_success_at", "datetime"),
        Column("days_since_success", "int"),
        Column("cycle_days", "int"),
        Column("freshness", description="fresh, stale, never run or unknown cycle"),
        Column("quarantine_backlog", "int"),
        Column("oldest_quarantined_at", "datetime"),
        Column("reject_reasons", description="field: message (count), most frequent first"),
        Column(
            "shared_decision_numbers",
            "int",
            description="decision numbers this feed's records give to two or more parties",
        ),
        Column(
            "shared_decision_number_examples",
            description="decision number (parties), the first few in number order",
        ),
        Column("set_aside_files", "int", description="files that could not be read"),
        Column(
            "set_aside_reasons",
            description="file: reason, for each file set aside (tried again once it changes)",
        ),
    ),
)

RESOLUTION = ReportSpec(
    name="resolution",
    title_zh="主体识别质量",
    title_en="Entity-resolution quality",
    description=(
        "Per month: automatic links (by rule), unsure and reviewer decisions, review queue "
        "opened / confirmed / rejected and its backlog at month end, merges, unmerges and "
        "splits."
    ),
    filters=("from", "to"),
    columns=(
        Column("month"),
        Column("auto_links", "int"),
        Column("unsure_links", "int"),
        Column("negative_links", "int"),
        Column("reviewer_links", "int"),
        Column("reviews_opened", "int"),
        Column("reviews_confirmed", "int"),
        Column("reviews_rejected", "int"),
        Column("review_backlog", "int", "pending reviews at the end of the month"),
        Column("merges", "int"),
        Column("unmerges", "int"),
        Column("splits", "int"),
    ),
    chart=ChartSpec(
        x="month",
        bars=("auto_links", "reviews_opened"),
        line="review_backlog",
        y_label="links / reviews",
        line_label="review backlog",
    ),
)

CREDIT_CHECKS = ReportSpec(
    name="credit-checks",
    title_zh="信用核查与联合奖惩反馈",
    title_en="Credit checks and measures applied",
    description=(
        "Per month, checking department and matter: credit checks made and how their parties "
        "resolved, the joint punishment and reward measures answered, and the departments' "
        "feedback: applied, not applied, or none yet."
    ),
    filters=("from", "to", "department"),
    columns=(
        Column("month"),
        Column("department_code", description="the checking department (empty: a regulator)"),
        Column("matter"),
        Column("checks", "int"),
        Column("matched", "int"),
        Column("ambiguous", "int"),
        Column("not_found", "int"),
        Column("checks_with_measures", "int"),
        Column("measures", "int"),
        Column("punishments", "int"),
        Column("rewards", "int"),
        Column("applied", "int"),
        Column("not_applied", "int"),
        Column("no_feedback", "int"),
    ),
    chart=ChartSpec(
        x="month",
        bars=("applied", "not_applied"),
        line="checks",
        y_label="measures",
        line_label="checks",
    ),
)

REPORTS: dict[str, ReportSpec] = {
    spec.name: spec
    for spec in (
        RECORDS,
        ENTITIES,
        PENALTIES,
        LIST_MEMBERS,
        LIST_CHANGES,
        DATA_QUALITY,
        RESOLUTION,
        CREDIT_CHECKS,
    )
}
