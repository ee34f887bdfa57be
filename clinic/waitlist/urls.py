"""Staff pages: /waitlist/ (clinic/urls.py includes this). The patient's claim link is
in clinic/reminders/link_urls.py, beside the other signed links."""

from django.urls import path

from . import views

app_name = "waitlist"

urlpatterns = [
    path("", views.waitlist_list, name="list"),
    path("new/", views.waitlist_add, name="add"),
    path("<int:entry_id>/withdraw/", views.waitlist_withdraw, name="withdraw"),
    path("<int:entry_id>/book/", views.waitlist_book, name="book"),
]
