"""Which source's value a golden record keeps: each feed's authority over master data (names,
addresses, legal representatives, a person's birth date and gender).

A feed's authority is its catalogue entry's ``golden_authority`` (0-100, higher wins) when the
catalogue sets one, else the default of its record category below: the market regulator's
registry is the reference for a company's name and address; licences are decided on the
party's registration documents; grades and ratings copy the registry's data; penalties and list
entries write down what the party was called where it was caught. The catalogue is the place to
change it because authority is a property of a data resource, like its sharing type, and the
ingest batch that keeps golden records reads feeds, not the web application's rules file.

How a record was identified counts before authority (``resolution.golden``): a record carrying
a valid USCC or resident id outranks any record without a valid code, whatever its feed.
"""

from __future__ import annotations

from core.models import RecordCategory

DEFAULT_AUTHORITY: dict[RecordCategory, int] = {
    RecordCategory.REGISTRY: 90,
    RecordCategory.LICENSING: 70,
    RecordCategory.TAX_GRADE: 50,
    RecordCategory.CUSTOMS_RATING: 50,
    RecordCategory.RED_LIST: 40,
    RecordCategory.PENALTY: 30,
    RecordCategory.LIST_ENTRY: 30,
}
MAX_AUTHORITY = 100


def feed_authority(category: RecordCategory | str | None, configured: int | None) -> int:
    """The authority of a feed of ``category`` whose catalogue entry says ``configured``
    (``None``: not set). An unknown or missing category counts as the lowest, 0."""
    if configured is not None:
        return configured
    if category is None:
        return 0
    try:
        return DEFAULT_AUTHORITY[RecordCategory(category)]
    except ValueError:
        return 0
