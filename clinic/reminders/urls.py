"""Staff pages: /reminders/ (clinic/urls.py includes this)."""

from django.urls import path

from . import views

app_name = "reminders"

urlpatterns = [
    path("", views.reminder_list, name="list"),
    path("<int:reminder_id>/retry/", views.reminder_retry, name="retry"),
    path("retry-failed/", views.reminder_retry_failed, name="retry_failed"),
]
