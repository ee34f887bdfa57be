from django.urls import path

from . import views

app_name = "scheduling"

urlpatterns = [
    path("", views.day, name="day"),
    path("week/<int:practitioner_id>/", views.week, name="week"),
    path("book/", views.book, name="book"),
    path("free-slots/", views.free_slots, name="free_slots"),
    path("recurring/", views.recurring, name="recurring"),
    path("appointments/<int:appointment_id>/", views.appointment_detail, name="appointment"),
    path("appointments/<int:appointment_id>/check-in/", views.check_in, name="check_in"),
    path("appointments/<int:appointment_id>/complete/", views.complete, name="complete"),
    path("appointments/<int:appointment_id>/no-show/", views.no_show, name="no_show"),
    path("appointments/<int:appointment_id>/cancel/", views.cancel, name="cancel"),
    path("appointments/<int:appointment_id>/undo/", views.undo_status, name="undo_status"),
    path("appointments/<int:appointment_id>/reschedule/", views.reschedule, name="reschedule"),
    path(
        "appointments/<int:appointment_id>/calendar.ics",
        views.appointment_ics_download,
        name="appointment_ics",
    ),
    path("series/<int:series_id>/", views.series, name="series"),
    path("series/<int:series_id>/cancel/", views.series_cancel, name="series_cancel"),
    path("series/<int:series_id>/move/", views.series_move, name="series_move"),
    path("feed/<str:token>.ics", views.practitioner_feed, name="feed"),
    path("my-feed/", views.my_feed, name="my_feed"),
    path("practitioners/", views.practitioner_list, name="practitioners"),
    path("practitioners/new/", views.practitioner_create, name="practitioner_create"),
    path("practitioners/<int:practitioner_id>/", views.practitioner_edit, name="practitioner"),
    path("rooms/", views.room_list, name="rooms"),
    path("rooms/new/", views.room_create, name="room_create"),
    path("rooms/<int:room_id>/", views.room_edit, name="room_edit"),
    path("settings/", views.settings_edit, name="settings"),
    path("closures/", views.closure_list, name="closures"),
    path("closures/new/", views.closure_create, name="closure_create"),
    path("closures/<int:closure_id>/", views.closure_edit, name="closure_edit"),
    path("closures/<int:closure_id>/visits/", views.closure_visits, name="closure_visits"),
    path("time-off/", views.time_off_list, name="time_off_list"),
    path("time-off/<int:time_off_id>/visits/", views.time_off_visits, name="time_off_visits"),
]
