"""Which manual techniques a patient's screening flags restrict (docs/clinical.md §4).

A pure function: no database, no request. Callers hand over the assessment's precaution
codes, its Ottawa result and the clinic's precaution table as plain values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

CAUTION = "caution"
CONTRAINDICATED = "contraindicated"
_STRENGTH = {"": 0, CAUTION: 1, CONTRAINDICATED: 2}

# A positive Ottawa rule (x-ray indicated) counts as the "suspected or recent fracture" row.
FRACTURE = "fracture"
OTTAWA_REASON = "Ottawa rule positive (x-ray indicated)"


@dataclass(frozen=True)
class Restriction:
    level: str = ""  # "", "caution" or "contraindicated": the strongest that applies
    reasons: tuple[str, ...] = field(default_factory=tuple)  # every flag that restricts it

    @property
    def contraindicated(self) -> bool:
        return self.level == CONTRAINDICATED


def technique_restrictions(
    *,
    precautions: Iterable[str],
    xray_indicated: bool,
    rules: Iterable[tuple[str, str, str]],
    precaution_labels: dict[str, str] | None = None,
) -> dict[str, Restriction]:
    """Per technique code, the strongest restriction the flags put on it and why.

    ``rules`` are (precaution code, technique code, level) cells of the clinic's table.
    Techniques no flag restricts are absent from the result. Each reason reads
    "<flag label>: <level>", so the therapist sees which flag asks for what.
    """
    labels = precaution_labels or {}
    flags: dict[str, str] = {}
    for code in precautions:
        flags[code] = labels.get(code, code)
    if xray_indicated:
        if FRACTURE in flags:
            flags[FRACTURE] = f"{flags[FRACTURE]}; {OTTAWA_REASON}"
        else:
            flags[FRACTURE] = OTTAWA_REASON

    found: dict[str, list[tuple[str, str]]] = {}
    for precaution, technique, level in rules:
        if precaution not in flags or level not in (CAUTION, CONTRAINDICATED):
            continue
        found.setdefault(technique, []).append((level, flags[precaution]))
    result = {}
    for technique, cells in found.items():
        # Strongest first, then in the table's order.
        cells.sort(key=lambda cell: -_STRENGTH[cell[0]])
        result[technique] = Restriction(
            level=cells[0][0], reasons=tuple(f"{label}: {level}" for level, label in cells)
        )
    return result
