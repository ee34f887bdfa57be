"""Caseload reports for the clinic manager and the therapists: outcomes, attendance,
utilisation and home-program adherence (/reports/).

Every figure is aggregated in the database (GROUP BY, conditional aggregates, medians)
over a bounded date range, so a page costs the same few queries whatever the clinic's
size, and no page reads the rows behind a figure. The manager's pages hold counts and
rates only; a therapist may open the list of their own patients behind their outcomes
row, a clinical page that is audited like any other.
"""
