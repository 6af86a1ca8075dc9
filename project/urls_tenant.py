from django.urls import include, path
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from tenants import views as staff_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("backoffice/login/", OIDCAuthenticationRequestView.as_view(), name="backoffice-login"),
    path("backoffice/signed-out/", staff_views.signed_out, name="backoffice-signed-out"),
    path("backoffice/", include("backoffice.urls")),
    path("", include("payments.urls")),
    path("", include("booking.urls")),
]
