"""The patient's signed links from reminder emails: /r/... (no login)."""

from django.urls import path

from clinic.questionnaires import views as questionnaire_views
from clinic.waitlist import views as waitlist_views

from . import views

app_name = "reminder_links"

urlpatterns = [
    path("e/<str:token>/", views.link_exercises, name="exercises"),
    path("d/<str:token>/", views.link_done, name="done"),
    path("p/<str:token>/", views.link_pain, name="pain"),
    path("u/<str:token>/", views.link_unsubscribe, name="unsubscribe"),
    path("w/<str:token>/", waitlist_views.offer_claim, name="claim"),
    path("q/<str:token>/", questionnaire_views.link_questionnaire, name="questionnaire"),
    path("c/<str:token>/", views.link_confirm, name="confirm"),
    path("x/<str:token>/", views.link_cancel, name="cancel"),
    path("ua/<str:token>/", views.link_unsubscribe_appointments, name="unsubscribe_appointments"),
]
