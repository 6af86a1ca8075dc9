"""AWS parts against moto's server: SES sends the e-mails, Secrets Manager holds the
configuration and the operators' credentials."""

import json
import os
import subprocess
import sys
import urllib.request

import boto3

from outbox.delivery import outbox_deliver
from outbox.models import OutboxMessage
from payments.credentials import operator_credentials
from project.aws_secrets import forget_cached_secrets
from tests.factories import hold


def sent_through_ses(endpoint: str) -> list[dict]:
    """What moto's SES server accepted, as its data API shows it."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json") as response:
        return json.load(response)["ses"]["RawMessage"]


def test_the_confirmation_email_goes_through_ses(aws, settings, make_slot):
    settings.EMAIL_BACKEND = "django_ses.SESBackend"
    settings.AWS_SES_REGION_ENDPOINT_URL = aws
    settings.AWS_SES_ACCESS_KEY_ID = "testing"
    settings.AWS_SES_SECRET_ACCESS_KEY = "testing"
    boto3.client("ses").verify_email_identity(EmailAddress=settings.DEFAULT_FROM_EMAIL)
    reservation = hold(make_slot(), 2)
    message = OutboxMessage.objects.create(
        topic="email.reservation_confirmed", payload={"reservation_id": reservation.pk}
    )

    assert outbox_deliver(message_id=message.pk) is True

    (sent,) = [m for m in sent_through_ses(aws) if reservation.code in m["raw_data"]]
    assert "ana@example.com" in sent["destinations"]


def test_operator_credentials_come_from_secrets_manager(aws, db):
    secret = {"stripe": {"secret_key": "sk_test_x", "webhook_secrets": ["whsec_1", "whsec_2"]}}
    boto3.client("secretsmanager").create_secret(
        Name="andes-booking/operators/gamma-secrets", SecretString=json.dumps(secret)
    )
    forget_cached_secrets()
    credentials = operator_credentials("gamma-secrets")
    assert credentials.stripe.secret_key == "sk_test_x"
    assert credentials.stripe.webhook_secrets == ("whsec_1", "whsec_2")
    assert credentials.mercadopago is None
    assert operator_credentials("no-such-operator").stripe is None


def test_the_configuration_secret_fills_the_production_settings(aws):
    """A production pod's whole configuration can come from one secret: it starts with
    nothing in its environment but where that secret is."""
    boto3.client("secretsmanager").create_secret(
        Name="andes-booking/config",
        SecretString=json.dumps(
            {
                "DJANGO_SECRET_KEY": "from-secrets-manager-0123456789",
                "DJANGO_ALLOWED_HOSTS": ".operator.example",
                "EMAIL_BACKEND": "django_ses.SESBackend",
                "REDIS_URL": "redis://127.0.0.1:6379/0",
                "DEFAULT_FROM_EMAIL": "hola@operator.example",
            }
        ),
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env |= {"AWS_SECRETS_ID": "andes-booking/config"}
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='project.settings'; "
        "from django.conf import settings; print(settings.PRODUCTION, settings.SECRET_KEY, "
        "settings.DEFAULT_FROM_EMAIL)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == [
        "True",
        "from-secrets-manager-0123456789",
        "hola@operator.example",
    ]
