"""Caseload reports: /reports/ (clinic/urls.py includes this)."""

from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("outcomes/", views.outcomes, name="outcomes"),
    path("outcomes.csv", views.outcomes_csv, name="outcomes_csv"),
    path("outcomes/my-patients/", views.outcomes_patients, name="outcomes_patients"),
    path("attendance/", views.attendance, name="attendance"),
    path("attendance.csv", views.attendance_csv, name="attendance_csv"),
    path("utilisation/", views.utilisation, name="utilisation"),
    path("utilisation.csv", views.utilisation_csv, name="utilisation_csv"),
    path("adherence/", views.adherence, name="adherence"),
    path("adherence.csv", views.adherence_csv, name="adherence_csv"),
]
