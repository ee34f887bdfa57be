"""The patient's signed links from reminder emails: /r/... (no login)."""

from django.urls import path

from . import views

app_name = "reminder_links"

urlpatterns = [
    path("e/<str:token>/", views.link_exercises, name="exercises"),
    path("d/<str:token>/", views.link_done, name="done"),
    path("p/<str:token>/", views.link_pain, name="pain"),
    path("u/<str:token>/", views.link_unsubscribe, name="unsubscribe"),
    path("c/<str:token>/", views.link_confirm, name="confirm"),
    path("x/<str:token>/", views.link_cancel, name="cancel"),
    path("ua/<str:token>/", views.link_unsubscribe_appointments, name="unsubscribe_appointments"),
]
