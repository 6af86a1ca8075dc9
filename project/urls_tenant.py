"""An operator's site: the traveller's pages (booking, payments), the providers' webhooks and
the panel's notifications (panel_sync), staff sign-in (tenants, with mozilla-django-oidc's
callback) and the backoffice."""

from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("oidc/", include("mozilla_django_oidc.urls")),
    path("", include("tenants.urls")),
    path("backoffice/", include("backoffice.urls")),
    path("", include("payments.urls")),
    path("", include("panel_sync.urls")),
    path("", include("booking.urls")),
]

handler400 = "project.errors.bad_request"
handler500 = "project.unavailable.server_error"
