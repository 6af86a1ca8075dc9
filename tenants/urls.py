"""Staff sign-in on an operator's site (OIDC against Cognito). The provider's callback and
sign-out are mozilla-django-oidc's own URLs, under /oidc/."""

from django.urls import path
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from tenants import views

app_name = "tenants"
urlpatterns = [
    path("backoffice/login/", OIDCAuthenticationRequestView.as_view(), name="sign-in"),
    path("backoffice/signed-out/", views.signed_out, name="signed-out"),
]
