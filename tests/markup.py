"""Rows written in Python against the template loop they replaced."""

import re

from django.template import engines


def assert_same_markup(template: str, context: dict, written: str) -> None:
    """``written`` is what ``template`` renders with ``context``, but for the
    whitespace around line breaks."""
    expected = engines["django"].from_string(template).render(context)

    def tidy(html: str) -> str:
        return re.sub(r"\s*\n\s*", "", html).strip()

    assert tidy(written) == tidy(expected)
