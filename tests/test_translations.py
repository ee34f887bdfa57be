"""The message catalogues in locale/: complete, and compiled from their current source.

The compiled .mo files are committed so that `make run` and `make test` work on a machine
without GNU gettext; these tests fail when a .po was edited and not compiled again
(`python manage.py compilemessages`, README "Languages").
"""

from pathlib import Path

import polib
import pytest
from django.conf import settings

CATALOGUES = sorted(
    po for folder in settings.LOCALE_PATHS for po in Path(folder).glob("*/LC_MESSAGES/django.po")
)


def _messages(catalogue) -> dict:
    """(context, message) -> translation, for every entry a compiled catalogue would keep."""
    messages = {}
    for entry in catalogue:
        if entry.obsolete or "fuzzy" in entry.flags:
            continue
        key = (entry.msgctxt, entry.msgid, entry.msgid_plural or None)
        if entry.msgid_plural:
            messages[key] = tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
        elif entry.msgstr:
            messages[key] = entry.msgstr
    return messages


def test_locale_paths_exist_and_hold_the_spanish_catalogue():
    assert settings.LOCALE_PATHS
    for folder in settings.LOCALE_PATHS:
        assert Path(folder).is_dir(), folder
    assert [po.parts[-3] for po in CATALOGUES] == ["es"]


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parts[-3])
def test_committed_mo_is_compiled_from_the_current_po(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run manage.py compilemessages"
    po, mo = polib.pofile(str(po_path)), polib.mofile(str(mo_path))
    assert _messages(mo) == _messages(po), f"{mo_path} is stale: run manage.py compilemessages"
    assert mo.metadata.get("Plural-Forms") == po.metadata.get("Plural-Forms")


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parts[-3])
def test_every_message_is_translated(po_path):
    po = polib.pofile(str(po_path))
    assert not po.metadata_is_fuzzy
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert untranslated == [] and fuzzy == []
