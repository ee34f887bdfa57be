"""Patient-reported questionnaires (LEFS, NPRS) asked for by email between visits.

When they are asked (selectors.py, services.py: the reminder dispatch sweep), and the
patient's signed link that answers one (views.py). The record itself is
patients.QuestionnaireResponse, scored by patients.services.
"""
