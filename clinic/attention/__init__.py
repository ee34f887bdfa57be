"""Needs attention: a therapist's patients whose data between visits asks for a look.

selectors.py computes the list in a fixed number of set-based queries, services.py stores
acknowledgements, views.py and sections.py show it on its own page and on Today.
"""
