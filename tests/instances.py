"""Which model instances a block of code builds: pages that read plain values must not
build one per row (docs/decisions.md, "Pages at a clinic group's size")."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models.signals import post_init


@contextmanager
def instances_built(*models) -> Iterator[list]:
    """The instances of ``models`` built inside the block, in order (the list fills as
    the block runs)."""
    built: list = []

    def record(sender, instance, **kwargs):
        if sender in models:
            built.append(instance)

    post_init.connect(record, weak=False)
    try:
        yield built
    finally:
        post_init.disconnect(record)
