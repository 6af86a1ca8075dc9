"""Give the demo operators payment credentials, as production would: fresh random keys in
(moto's) Secrets Manager, and the same keys registered at the provider emulators with each
operator's webhook address. Run by scripts/serve.sh once moto and the emulators are up."""

import json
import os
import secrets
import sys
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from emulators.testing import control  # noqa: E402

DEMO_SITES = {"demo": "demo.localhost", "demo_br": "demo-br.localhost"}


def main() -> None:
    port = os.environ.get("DEMO_PORT", "8000")
    stripe_url = os.environ["STRIPE_API_BASE"]
    mercadopago_url = os.environ["MERCADOPAGO_API_BASE"]
    client = boto3.client("secretsmanager")
    for schema, domain in DEMO_SITES.items():
        secret = {
            "stripe": {
                "secret_key": f"sk_test_{secrets.token_hex(12)}",
                "webhook_secrets": [f"whsec_{secrets.token_hex(16)}"],
            },
            "mercadopago": {
                "access_token": f"TEST-{secrets.token_hex(16)}",
                "webhook_secret": secrets.token_hex(16),
            },
        }
        control(
            stripe_url,
            "/_emulator/accounts",
            {
                "api_key": secret["stripe"]["secret_key"],
                "webhook_url": f"http://{domain}:{port}/webhooks/stripe/",
                "webhook_secrets": secret["stripe"]["webhook_secrets"],
            },
        )
        control(
            mercadopago_url,
            "/_emulator/accounts",
            {
                "access_token": secret["mercadopago"]["access_token"],
                "webhook_secret": secret["mercadopago"]["webhook_secret"],
            },
        )
        name = f"andes-booking/operators/{schema}"
        try:
            client.create_secret(Name=name, SecretString=json.dumps(secret))
        except client.exceptions.ResourceExistsException:
            client.put_secret_value(SecretId=name, SecretString=json.dumps(secret))


if __name__ == "__main__":
    main()
