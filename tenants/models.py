"""Operators (tenants) and their domains, in the public schema."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

CURRENCIES = [("ARS", "ARS"), ("BRL", "BRL"), ("CLP", "CLP"), ("USD", "USD")]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Operator(TenantMixin):
    """A tour operator: one PostgreSQL schema holds all of its activities and bookings."""

    name = models.CharField(max_length=120)
    time_zone = models.CharField(
        max_length=64, default="America/Argentina/Ushuaia", validators=[validate_time_zone]
    )
    default_currency = models.CharField(max_length=3, choices=CURRENCIES, default="ARS")
    locale = models.CharField(max_length=8, choices=settings.LANGUAGES, default="es")
    brand_name = models.CharField(max_length=120, blank=True)
    logo_url = models.CharField(max_length=300, blank=True)
    accent_colour = models.CharField(
        max_length=7,
        default="#0f766e",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #0f766e."))],
    )
    hold_minutes = models.PositiveSmallIntegerField(
        default=15, help_text=_("How long seats stay held while the traveller pays.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.brand_name or self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
