from django.urls import path

from booking import manage, views

app_name = "booking"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("activities/<slug:slug>/", views.activity_detail, name="activity"),
    path("departures/<int:slot_id>/book/", views.book, name="book"),
    path("reservations/<str:code>/", views.reservation_detail, name="reservation"),
    path(
        "reservations/<str:code>/calendar.ics",
        views.reservation_calendar,
        name="reservation-calendar",
    ),
    path("my-booking/", manage.find_booking, name="find"),
]
