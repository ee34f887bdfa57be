"""Plain SQL of the busiest pages, prepared once per database connection on PostgreSQL.

Django sends every query as text with its values written in, so PostgreSQL plans each
one again: about a millisecond for the patient page's section reads, two for the
needs-attention rules, often more than running them (docs/decisions.md, "Pages at a
clinic group's size"). ``execute`` prepares a statement the first time a connection
runs it (``PREPARE``, named after a hash of its text) and then runs it with
``EXECUTE``, which reuses the plan. Elsewhere (SQLite) it runs the text.

The ``PREPARE`` goes through the driver's own connection, like Django's connection
set-up, so a page's query count is the same whichever request prepared it first;
PostgreSQL keeps prepared statements whatever becomes of the transaction around them.
Behind a connection pooler, use session pooling (README, "Deploying").
"""

from __future__ import annotations

import hashlib
import re
import weakref
from typing import Any

from django.db import connection

# The statements each driver connection has prepared (a closed one takes its set along).
_prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
# Each statement's text by name, for ``logged_sql`` (a few dozen statements at most).
_texts: dict[str, str] = {}


def execute(cursor, sql: str, params: list[Any], *, label: str) -> None:
    """``cursor.execute(sql, params)``, prepared on PostgreSQL. ``sql`` uses ``%s``
    placeholders only (no literal percent sign) and its text must not carry values
    that change from call to call: those are ``params``. ``label`` (letters and
    underscores) starts the statement's name, so ``EXECUTE clinic_<label>_...`` in a
    query log says what it reads."""
    if connection.vendor != "postgresql":
        cursor.execute(sql, params)
        return
    digest = hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:16]
    name = f"clinic_{label}_{digest}"
    raw = connection.connection
    done = _prepared.setdefault(raw, set())
    if name not in done:
        raw.execute(f"PREPARE {name} AS {_numbered(sql)}")
        done.add(name)
        _texts[name] = sql
    marks = ", ".join(["%s"] * len(params))
    cursor.execute(f"EXECUTE {name}({marks})" if params else f"EXECUTE {name}", params)


def _numbered(sql: str) -> str:
    """``%s`` placeholders as PostgreSQL's ``$1``, ``$2``..."""
    parts = sql.split("%s")
    if any("%" in part for part in parts):
        raise ValueError("only %s placeholders, no other percent sign")
    return "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], 1)) + parts[-1]


def logged_sql(text: str) -> str:
    """A query as Django's query log shows it, an ``EXECUTE`` of a statement prepared
    here given as the statement's text followed by its arguments: for tests that read
    the SQL a page ran."""
    found = re.match(r"EXECUTE (clinic_\w+)(.*)", text, re.DOTALL)
    if found is None or found.group(1) not in _texts:
        return text
    return f"{_texts[found.group(1)]} -- {found.group(2)}"
