from django.urls import path

from . import views

app_name = "treatments"

urlpatterns = [
    path("patients/<int:patient_id>/plans/", views.plan_list, name="plan_list"),
    path("patients/<int:patient_id>/notes/", views.note_list, name="note_list"),
    path("patients/<int:patient_id>/plans/new/", views.plan_create, name="plan_create"),
    path("plans/<int:plan_id>/", views.plan_detail, name="plan_detail"),
    path("plans/<int:plan_id>/close/", views.plan_close, name="plan_close"),
    path("patients/<int:patient_id>/notes/new/", views.note_create, name="note_create"),
    path("notes/<int:note_id>/", views.note_detail, name="note_detail"),
    path("notes/<int:note_id>/edit/", views.note_edit, name="note_edit"),
    path("notes/<int:note_id>/sign/", views.note_sign, name="note_sign"),
    path("notes/<int:note_id>/amend/", views.note_amend, name="note_amend"),
    path("notes/<int:note_id>/addendum/", views.note_addendum, name="note_addendum"),
    path("patients/<int:patient_id>/programs/new/", views.program_create, name="program_create"),
    path("programs/<int:program_id>/", views.program_detail, name="program_detail"),
    path("programs/<int:program_id>/end/", views.program_end, name="program_end"),
    path("programs/<int:program_id>/handout/", views.program_handout, name="program_handout"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/techniques/<int:technique_id>/", views.technique_edit, name="technique_edit"),
    path("catalogue/precautions/", views.precaution_table_edit, name="precaution_table"),
    path(
        "catalogue/precautions/restore/",
        views.precaution_table_restore,
        name="precaution_table_restore",
    ),
    path("catalogue/exercises/new/", views.exercise_create, name="exercise_create"),
    path("catalogue/exercises/<int:exercise_id>/", views.exercise_edit, name="exercise_edit"),
    path(
        "catalogue/exercises/<int:exercise_id>/toggle/",
        views.exercise_toggle,
        name="exercise_toggle",
    ),
]
