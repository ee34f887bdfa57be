"""The seeded catalogue (techniques, six exercises) and the published precaution table.

Techniques and exercises are seed data: the data migration creates them once and the
clinic edits them afterwards, so their one copy lives in that migration and app code reads
it through importlib (a migration module name starts with a digit).

The default precaution table is different: it is a published reference the clinic can
return to at any time ("restore the published defaults"), so app code owns it here, next
to the text it encodes (docs/clinical.md §4). The migration cannot import this module
(migrations never import app code that may change), so it keeps a frozen copy;
``tests/treatments/test_catalogue.py`` pins the two equal. If the published defaults ever
change, change them here and add a data migration; do not edit the old one.
"""

from __future__ import annotations

import importlib

from .models import Exercise, PrecautionRule, Technique

_seed = importlib.import_module("treatments.migrations.0002_seed_technique_and_exercise_catalogue")

TECHNIQUES: list[dict] = _seed.TECHNIQUES
EXERCISES: list[dict] = _seed.EXERCISES

# The level a cell may hold. "none" is an explicit answer ("no restriction"), stored as the
# absence of a PrecautionRule row; a cell nobody answered is an error, never "none".
NO_RESTRICTION = "none"

_C, _X, _N = "caution", "contraindicated", NO_RESTRICTION
# docs/clinical.md §4, column for column.
_COLUMNS = ("joint_mobilization", "hvla_thrust", "soft_tissue_mobilization", "muscle_energy")
_PUBLISHED_TABLE = {
    "fracture": (_C, _X, _C, _C),
    "malignancy": (_X, _X, _X, _C),
    "osteoporosis": (_C, _X, _C, _C),
    "instability": (_C, _X, _N, _C),
    "infection": (_X, _X, _X, _X),
    "inflammatory_arthritis": (_C, _X, _C, _C),
    "anticoagulation": (_C, _X, _C, _N),
    "neuro_deficit": (_C, _X, _N, _C),
    "dvt": (_C, _X, _X, _C),
    "myositis": (_N, _N, _C, _X),
}

# Every published cell: (precaution code, technique code) -> "none" | "caution" | "contraindicated".
DEFAULT_PRECAUTION_TABLE: dict[tuple[str, str], str] = {
    (precaution, technique): level
    for precaution, levels in _PUBLISHED_TABLE.items()
    for technique, level in zip(_COLUMNS, levels, strict=True)
}

# The restricted cells only (the rows the table holds), in the shape the migration seeds.
DEFAULT_PRECAUTION_RULES: dict[tuple[str, str], str] = {
    cell: level for cell, level in DEFAULT_PRECAUTION_TABLE.items() if level != NO_RESTRICTION
}

# Techniques the published table has a column for; a technique the clinic adds later has
# no published default, so restoring the defaults leaves its cells as they are.
PUBLISHED_TECHNIQUES: tuple[str, ...] = _COLUMNS


def catalogue_ensure() -> None:
    """Restore missing catalogue rows (after a test database flush, for example)."""
    _seed.load_catalogue(Technique, PrecautionRule, Exercise)
