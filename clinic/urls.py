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
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:user_id>/", views.staff_edit, name="staff_edit"),
    path("", include("clinic.mfa.urls")),
    path("patients/", include("patients.urls")),
    path("treatments/", include("treatments.urls")),
    path("audit/", include("clinic.audit.urls")),
    path("schedule/", include("clinic.scheduling.urls")),
    path("reminders/", include("clinic.reminders.urls")),
    path("r/", include("clinic.reminders.link_urls")),
    path("admin/", admin.site.urls),
]
