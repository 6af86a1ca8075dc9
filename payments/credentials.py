"""Each operator's provider credentials and webhook secrets: one JSON secret per operator in
AWS Secrets Manager, never in the repository or the database.

    {"stripe": {"secret_key": "sk_...", "webhook_secrets": ["whsec_new", "whsec_old"]},
     "mercadopago": {"access_token": "APP_USR-...", "webhook_secret": "..."}}

Two Stripe webhook secrets are accepted while one is being rotated.
"""

from dataclasses import dataclass

from botocore.exceptions import ClientError
from django.conf import settings

from project.aws_secrets import read_secret


@dataclass(frozen=True)
class StripeCredentials:
    secret_key: str
    webhook_secrets: tuple[str, ...]


@dataclass(frozen=True)
class MercadoPagoCredentials:
    access_token: str
    webhook_secret: str


@dataclass(frozen=True)
class OperatorCredentials:
    stripe: StripeCredentials | None = None
    mercadopago: MercadoPagoCredentials | None = None


def operator_credentials(schema_name: str) -> OperatorCredentials:
    try:
        data = read_secret(settings.OPERATOR_SECRET_ID.format(schema=schema_name))
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return OperatorCredentials()
        raise
    stripe = data.get("stripe")
    mercadopago = data.get("mercadopago")
    return OperatorCredentials(
        stripe=StripeCredentials(
            secret_key=stripe["secret_key"],
            webhook_secrets=tuple(stripe.get("webhook_secrets", ())),
        )
        if stripe
        else None,
        mercadopago=MercadoPagoCredentials(
            access_token=mercadopago["access_token"],
            webhook_secret=mercadopago["webhook_secret"],
        )
        if mercadopago
        else None,
    )
