"""An operator's own settings, edited by its owners: how travellers reach it (contact e-mail and
phone), the address its e-mails are sent from, which SES must have verified first, and the
minutes a traveller has to pay at the provider.

SES refuses a From that is not one of the account's verified identities (the address itself, or
its domain). Until the operator's sender address is verified, its e-mails go out from the
platform's address with its name, and replies reach it through Reply-To (Operator.email_from).
"""

import logging
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from audit.services import audit_record
from tenants.actors import STAFF, Actor, actor_require
from tenants.models import Operator, Role
from tenants.records import SettingsAction

logger = logging.getLogger(__name__)

# What owners edit on the settings page.
EDITABLE = ("contact_email", "contact_phone", "sender_email", "payment_minutes")


class SesUnavailable(Exception):
    """SES did not answer (or refused the question): nothing was changed."""


@dataclass(frozen=True)
class SenderCheck:
    """What SES said about the operator's sender address."""

    address: str
    verified: bool
    # SES was asked to send its verification e-mail to the address (not verified before).
    verification_sent: bool = False


def _ses():
    """A client for SES's v1 API (the one django-ses sends with), at the endpoint the e-mail
    backend uses, with the settings' AWS call budget."""
    return boto3.client(
        "ses",
        region_name=settings.AWS_SES_REGION_NAME,
        endpoint_url=settings.AWS_SES_REGION_ENDPOINT_URL or None,
        config=settings.AWS_CLIENT_CONFIG,
    )


def ses_sender_verified(address: str) -> bool:
    """Whether SES may send from `address`: the address or its domain is a verified identity.
    Raises SesUnavailable when SES does not answer."""
    domain = address.rsplit("@", 1)[-1].lower()
    try:
        attributes = _ses().get_identity_verification_attributes(Identities=[address, domain])
    except (BotoCoreError, ClientError) as exc:
        raise SesUnavailable(str(exc)) from exc
    statuses = attributes.get("VerificationAttributes", {})
    return any(status.get("VerificationStatus") == "Success" for status in statuses.values())


def _ses_request_verification(address: str) -> None:
    try:
        _ses().verify_email_identity(EmailAddress=address)
    except (BotoCoreError, ClientError) as exc:
        raise SesUnavailable(str(exc)) from exc


def operator_settings_update(
    *, operator: Operator, actor: Actor, values: dict[str, Any]
) -> list[str]:
    """Save the settings in `values` (names from EDITABLE) that differ from the operator's, and
    record each change, old and new, in its audit log (an owner). A new sender address is not
    verified until SES says so (operator_sender_verify): the e-mails fall back to the
    platform's address meanwhile. Locks the operator's row (public schema) for the update.
    Returns the names of the settings changed."""
    actor_require(actor, STAFF, role=Role.OWNER)
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not an operator setting: {sorted(unknown)}")
    with transaction.atomic():
        current = Operator.objects.select_for_update().get(pk=operator.pk)
        changed = {
            name: {"old": getattr(current, name), "new": value}
            for name, value in values.items()
            if getattr(current, name) != value
        }
        if not changed:
            return []
        for name, change in changed.items():
            setattr(current, name, change["new"])
        fields = list(changed)
        if "sender_email" in changed and current.sender_verified_at:
            current.sender_verified_at = None
            fields.append("sender_verified_at")
        current.save(update_fields=fields)
        with schema_context(current.schema_name):
            audit_record(
                actor=str(actor),
                action=SettingsAction.SETTINGS_CHANGED,
                target=current.display_name,
                data={"changes": changed},
            )
    for name in fields:
        setattr(operator, name, getattr(current, name))
    return list(changed)


def operator_sender_verify(*, operator: Operator, actor: Actor) -> SenderCheck:
    """Ask SES whether the operator's sender address may be the From of its e-mails (an owner).
    Not verified yet: SES is asked to send its verification e-mail to the address (whose link
    the operator follows, then asks again). The answer is recorded on the operator and in its
    audit log, unless the address changed meanwhile. SES is asked before any lock is taken;
    the operator's row is then locked for the update. Raises SesUnavailable."""
    actor_require(actor, STAFF, role=Role.OWNER)
    address = operator.sender_email
    if not address:
        raise ValueError("the operator has no sender address to verify")
    verified = ses_sender_verified(address)
    sent = False
    if not verified:
        _ses_request_verification(address)
        sent = True
        verified = ses_sender_verified(address)  # SES verifies some identities at once
    with transaction.atomic():
        current = Operator.objects.select_for_update().get(pk=operator.pk)
        if current.sender_email != address:
            return SenderCheck(address=address, verified=False)
        current.sender_verified_at = timezone.now() if verified else None
        current.save(update_fields=["sender_verified_at"])
        with schema_context(current.schema_name):
            audit_record(
                actor=str(actor),
                action=(
                    SettingsAction.SENDER_VERIFIED
                    if verified
                    else SettingsAction.SENDER_VERIFICATION_SENT
                ),
                target=address,
            )
    operator.sender_verified_at = current.sender_verified_at
    return SenderCheck(address=address, verified=verified, verification_sent=sent and not verified)
