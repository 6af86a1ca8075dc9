from django.urls import path

from panel_sync import views

app_name = "panel_sync"
urlpatterns = [
    path("panel/notifications/", views.notification, name="notifications"),
    # The address the panel may know us by when it names the operator in the path.
    path("panel/<str:operator>/notifications/", views.notification, name="operator_notifications"),
]
