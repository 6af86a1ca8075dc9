from django.urls import path

from tenants import views

urlpatterns = [
    path("", views.platform_home, name="platform-home"),
]

handler400 = "project.errors.bad_request"
handler500 = "project.unavailable.server_error"
