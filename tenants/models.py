"""Operators (tenants) and their domains, and the staff who sign in to their backoffices:
all in the public schema."""

import zoneinfo
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name

from tenants.colours import Accent

# How long a traveller who started paying may take at the provider (Operator.payment_minutes).
PAYMENT_MINUTES_MIN, PAYMENT_MINUTES_MAX = 5, 60

CURRENCIES = [("ARS", "ARS"), ("BRL", "BRL"), ("CLP", "CLP"), ("USD", "USD")]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class OperatorQuerySet(models.QuerySet):
    def operators(self) -> "OperatorQuerySet":
        """Every operator, without the platform's own public site."""
        return self.exclude(schema_name=get_public_schema_name())

    def schema_names(self) -> list[str]:
        """The schema of every operator: what periodic work walks through."""
        return list(self.operators().values_list("schema_name", flat=True))


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
    payment_minutes = models.PositiveSmallIntegerField(
        _("minutes to pay"),
        default=30,
        validators=[
            MinValueValidator(PAYMENT_MINUTES_MIN),
            MaxValueValidator(PAYMENT_MINUTES_MAX),
        ],
        help_text=_(
            "When a traveller starts paying, their seats stay held this many minutes from then, "
            "and the payment provider's checkout ends with the hold."
        ),
    )
    contact_email = models.EmailField(
        _("e-mail for travellers"),
        blank=True,
        help_text=_("Travellers' replies to the booking e-mails go to this address."),
    )
    contact_phone = models.CharField(
        _("phone for travellers"),
        max_length=40,
        blank=True,
        help_text=_("Shown on the confirmation page and e-mail, with the e-mail address."),
    )
    # The operator's own sender address, used as the From of its e-mails once SES says it is a
    # verified identity (the address, or its domain): `sender_verified_at` is when SES said so,
    # and is cleared whenever the address changes (tenants.operator_settings).
    sender_email = models.EmailField(_("sender address"), blank=True)
    sender_verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OperatorQuerySet.as_manager()

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    payment_minutes__gte=PAYMENT_MINUTES_MIN,
                    payment_minutes__lte=PAYMENT_MINUTES_MAX,
                ),
                name="operator_payment_minutes_bounded",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.brand_name or self.name

    @property
    def accent(self) -> Accent:
        """The accent colour with the text colours that stay readable on and beside it."""
        return Accent.of(self.accent_colour)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def sends_as_itself(self) -> bool:
        """Whether its e-mails go out from its own sender address (SES verified it)."""
        return bool(self.sender_email and self.sender_verified_at)

    def email_from(self) -> str:
        """The From of the e-mails sent on the operator's behalf, with its name: its own sender
        address once SES has verified it, else the platform's own address (DEFAULT_FROM_EMAIL,
        verified at SES), travellers' replies then going to the operator through Reply-To."""
        address = (
            self.sender_email if self.sends_as_itself else parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
        )
        return formataddr((self.display_name, address))

    def email_reply_to(self) -> list[str]:
        """Where travellers' replies go: the contact address, unless it is the From already."""
        own = self.sender_email if self.sends_as_itself else ""
        if self.contact_email and self.contact_email.lower() != own.lower():
            return [self.contact_email]
        return []

    def site_url(self) -> str:
        """Its site as travellers reach it (its primary domain's, see Domain.site_url), the
        start of every link made outside a request: e-mails, calendar files. "" without a
        domain (the platform's own row before it has one)."""
        domain = self.domains.filter(is_primary=True).first()
        return domain.site_url() if domain else ""


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def site_url(self) -> str:
        """The site served at this domain, e.g. ``https://tours.example.com`` (the domain in the
        OPERATOR_SITE_URL pattern): where links made outside a request, in e-mails, point."""
        return settings.OPERATOR_SITE_URL.format(domain=self.domain)


class StaffUserManager(BaseUserManager):
    def create_user(self, sub: str, email: str, name: str = "", **fields) -> "StaffUser":
        """Staff have no password here: they sign in at the identity provider (Cognito)."""
        user = self.model(sub=sub, email=self.normalize_email(email), name=name, **fields)
        user.set_unusable_password()
        user.save(using=self._db)
        return user


class StaffUser(AbstractBaseUser):
    """An operator's staff member, known by the identity provider's subject (`sub`).

    Shared by all operators (public schema); what a user may do at an operator is their
    `Membership` there. The password field inherited from Django is always unusable."""

    sub = models.CharField(_("subject"), max_length=255, unique=True)
    email = models.EmailField(_("e-mail"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StaffUserManager()

    USERNAME_FIELD = "sub"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email or self.sub

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class Role(models.TextChoices):
    """Ordered from the most to the least trusted; each role can do what the ones below can."""

    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    AGENT = "agent", _("Agent")

    @property
    def rank(self) -> int:
        return {Role.OWNER: 3, Role.MANAGER: 2, Role.AGENT: 1}[self]


class MembershipQuerySet(models.QuerySet):
    def at(self, operator: Operator | None) -> "MembershipQuerySet":
        return self.filter(operator=operator)


class Membership(models.Model):
    """A staff user's access to one operator's backoffice, with a role there."""

    user = models.ForeignKey(StaffUser, on_delete=models.CASCADE, related_name="memberships")
    operator = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "operator"], name="membership_user_operator"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "manager", "agent"]),
                name="membership_role_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) at {self.operator}"

    def grants(self, role: str) -> bool:
        """Whether this membership's role is `role` or a more trusted one."""
        return Role(self.role).rank >= Role(role).rank
