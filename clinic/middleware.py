"""Request checks that apply to every URL."""

from __future__ import annotations

from django.http import Http404

from patients.inputs import id_in_range


class RecordIdRangeMiddleware:
    """A record id in the URL path beyond 64 bits is "not found", on every backend.

    ``<int:...>`` matches any number of digits; Django guards plain ``pk=`` lookups
    against numbers the database cannot hold, but not foreign-key or ``__in`` lookups,
    and SQLite then raises OverflowError (a 500). Checking the URL's integer arguments
    here covers every route, including ones added later, before any view runs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        for value in (*view_args, *view_kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and not id_in_range(value):
                # 0 is in no table either; refusing it here keeps the rule one line.
                raise Http404("No record has this number.")
        return None
