from django.urls import path

from . import views

urlpatterns = [
    path("accounts/two-step/", views.mfa_status, name="mfa_status"),
    path("accounts/two-step/verify/", views.mfa_verify, name="mfa_verify"),
    path("accounts/two-step/enrol/", views.mfa_enrol, name="mfa_enrol"),
    path("staff/<int:user_id>/two-step/reset/", views.staff_mfa_reset, name="staff_mfa_reset"),
]
