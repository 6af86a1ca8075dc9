from django.urls import path

from payments import cancel, views

app_name = "payments"
urlpatterns = [
    path("reservations/<str:code>/pay/", views.pay, name="pay"),
    path("reservations/<str:code>/change/", views.change, name="change"),
    path("reservations/<str:code>/changes/<int:change_id>/pay/", views.pay, name="pay-change"),
    path(
        "reservations/<str:code>/changes/<int:change_id>/",
        views.change_status,
        name="change-status",
    ),
    path("reservations/<str:code>/return/", views.payment_return, name="return"),
    path("reservations/<str:code>/pix/<int:intent_id>/", views.pix, name="pix"),
    path("reservations/<str:code>/confirmed/", views.confirmed, name="confirmed"),
    path("reservations/<str:code>/cancel/", cancel.cancel, name="cancel"),
    path(
        "reservations/<str:code>/cancellation/",
        cancel.cancellation_status,
        name="cancellation-status",
    ),
    path("webhooks/<str:provider>/", views.webhook, name="webhook"),
]
