from django.urls import path

from tenants import views

urlpatterns = [
    path("", views.platform_home, name="platform-home"),
]
