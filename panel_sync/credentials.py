"""The operator's panel credentials, from its secret in AWS Secrets Manager (the same secret as
its payment credentials, key "panel"), never from the database:

    {"panel": {"api_key": "...", "notification_token": "..."}}

`api_key` is the Bearer key we send to the panel; `notification_token` is what the panel
sends with its notifications to us (either may be rotated in the secret: it is read again
within five minutes, see project.aws_secrets)."""

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from project.aws_secrets import read_secret


class PanelNotConfigured(Exception):
    """The operator's secret has no panel credentials."""


class SecretsUnavailable(Exception):
    """Secrets Manager did not answer: try again later."""


@dataclass(frozen=True)
class PanelCredentials:
    api_key: str
    notification_token: str = ""


def panel_credentials(schema_name: str) -> PanelCredentials:
    try:
        data = read_secret(settings.OPERATOR_SECRET_ID.format(schema=schema_name))
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            raise PanelNotConfigured("the operator has no secret") from exc
        raise SecretsUnavailable(str(exc)) from exc
    except BotoCoreError as exc:
        raise SecretsUnavailable(str(exc)) from exc
    panel = data.get("panel")
    if not isinstance(panel, dict) or not panel.get("api_key"):
        raise PanelNotConfigured("the operator's secret has no panel api_key")
    return PanelCredentials(
        api_key=str(panel["api_key"]),
        notification_token=str(panel.get("notification_token") or ""),
    )
