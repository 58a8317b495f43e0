"""Personal data in exports, masked for the caller's role.

The same rules as the entity API (``app.entities.present``): only regulators see resident id
numbers and phone numbers in full; every other role gets them masked (``330106********1234``),
in codes and in free text alike. Exports go one step further for natural persons' names:
a bulk file of named people is not a one-by-one, audited profile look-up, so roles without
full identifiers get ``张*`` in exports (the profile API shows analysts the name).
"""

from __future__ import annotations

from collections.abc import Iterable

from app.entities.present import Viewer, code_value_for
from core.models import EntityKind
from core.rules.sharing import mask_person_name, mask_personal_text

# Which identifier names an entity in one cell, best first: a valid code beats a flagged one.
CODE_PREFERENCE = ("uscc", "resident_id", "masked_id", "org_code", "taxpayer_number")


class Masker:
    def __init__(self, viewer: Viewer) -> None:
        self.viewer = viewer
        self.full = viewer.full_identifiers

    def name(self, name: str | None, kind: EntityKind | None) -> str | None:
        if name is None or self.full:
            return name
        if kind is EntityKind.NATURAL_PERSON:
            return mask_person_name(name)
        # Unlinked records (no entity, so no kind): at least no id or phone number leaves.
        return mask_personal_text(name) if kind is None else name

    def text(
        self, text: str | None, kind: EntityKind | None, names: Iterable[str | None] = ()
    ) -> str | None:
        if text is None or self.full:
            return text
        masked = mask_personal_text(text)
        if kind is EntityKind.NATURAL_PERSON:
            for name in sorted({n for n in names if n}, key=len, reverse=True):
                masked = masked.replace(name, mask_person_name(name))
        return masked

    def code(self, id_type: str, value: str, kind: EntityKind) -> str:
        return code_value_for(self.viewer, id_type, value, kind)


def best_code(codes: Iterable[tuple[str, str, bool]]) -> tuple[str, str] | None:
    """(id_type, value) of the identifier that best names an entity, from
    ``(id_type, value, valid)`` triples; None when it has none of the preferred kinds."""
    best: tuple[tuple[int, int, str], tuple[str, str]] | None = None
    for id_type, value, valid in codes:
        if id_type not in CODE_PREFERENCE:
            continue
        key = (0 if valid else 1, CODE_PREFERENCE.index(id_type), value)
        if best is None or key < best[0]:
            best = (key, (id_type, value))
    return best[1] if best else None
