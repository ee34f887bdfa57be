from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.today, name="today"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/",
        views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:user_id>/", views.staff_edit, name="staff_edit"),
    path("staff/<int:user_id>/unlock/", views.staff_unlock, name="staff_unlock"),
    path(
        "staff/<int:user_id>/password-reset/",
        views.staff_password_reset,
        name="staff_password_reset",
    ),
    path("", include("clinic.mfa.urls")),
    path("patients/", include("patients.urls")),
    path("treatments/", include("treatments.urls")),
    path("audit/", include("clinic.audit.urls")),
    path("attention/", include("clinic.attention.urls")),
    path("reports/", include("clinic.reports.urls")),
    path("schedule/", include("clinic.scheduling.urls")),
    path("reminders/", include("clinic.reminders.urls")),
    path("waitlist/", include("clinic.waitlist.urls")),
    path("r/", include("clinic.reminders.link_urls")),
    path("admin/", admin.site.urls),
]
