from django.urls import path

from . import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("search/", views.patient_search, name="search"),
    path("<int:patient_id>/", views.patient_detail, name="detail"),
    path("<int:patient_id>/edit/", views.patient_edit, name="edit"),
    path("<int:patient_id>/archive/", views.patient_archive, name="archive"),
    path("<int:patient_id>/outcomes/", views.outcomes, name="outcomes"),
    path("<int:patient_id>/assessments/", views.assessment_list, name="assessment_list"),
    path("<int:patient_id>/assessments/new/", views.assessment_create, name="assessment_create"),
    path(
        "<int:patient_id>/assessments/<int:assessment_id>/",
        views.assessment_detail,
        name="assessment_detail",
    ),
    path(
        "<int:patient_id>/assessments/<int:assessment_id>/edit/",
        views.assessment_edit,
        name="assessment_edit",
    ),
    path(
        "<int:patient_id>/assessments/<int:assessment_id>/sign/",
        views.assessment_sign,
        name="assessment_sign",
    ),
    path(
        "<int:patient_id>/assessments/<int:assessment_id>/amend/",
        views.assessment_amend,
        name="assessment_amend",
    ),
    path(
        "<int:patient_id>/assessments/<int:assessment_id>/addendum/",
        views.assessment_addendum,
        name="assessment_addendum",
    ),
]
