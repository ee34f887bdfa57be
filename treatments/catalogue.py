"""The seeded catalogue (techniques, default precaution table, six exercises).

The data lives in the data migration that seeds it, so there is one copy. App and test
code read it from there through importlib (a migration module name starts with a digit);
the migration itself never imports app code.
"""

from __future__ import annotations

import importlib

from .models import Exercise, PrecautionRule, Technique

_seed = importlib.import_module("treatments.migrations.0002_seed_technique_and_exercise_catalogue")

TECHNIQUES: list[dict] = _seed.TECHNIQUES
EXERCISES: list[dict] = _seed.EXERCISES
DEFAULT_PRECAUTION_RULES: dict[tuple[str, str], str] = _seed.DEFAULT_PRECAUTION_RULES


def catalogue_ensure() -> None:
    """Restore missing catalogue rows (after a test database flush, for example)."""
    _seed.load_catalogue(Technique, PrecautionRule, Exercise)
