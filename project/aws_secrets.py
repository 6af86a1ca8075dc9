"""AWS Secrets Manager: the project's configuration secret, and per-operator secrets.

The endpoint is configurable (AWS_ENDPOINT_URL_SECRETS_MANAGER, honoured by boto3 itself),
which is how development and tests use moto's server instead of AWS. Calls are bounded by
settings.AWS_CLIENT_CONFIG; the configuration secret, read while the settings are being made,
is given that config by them.
"""

import json
import os
import threading
import time
from typing import Any

import boto3
from botocore.config import Config

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()
_client = None


def secrets_client(config: Config | None = None):
    """The Secrets Manager client, made once, with the settings' call budget."""
    global _client
    if _client is None:
        if config is None:
            from django.conf import settings

            config = settings.AWS_CLIENT_CONFIG
        _client = boto3.client(
            "secretsmanager", region_name=os.environ.get("AWS_REGION", "us-east-1"), config=config
        )
    return _client


def read_secret(
    secret_id: str, *, max_age: float = 300.0, config: Config | None = None
) -> dict[str, Any]:
    """The JSON of a secret, cached for `max_age` seconds (rotations land within that)."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(secret_id)
        if cached and now - cached[0] < max_age:
            return cached[1]
    value = json.loads(secrets_client(config).get_secret_value(SecretId=secret_id)["SecretString"])
    with _lock:
        _cache[secret_id] = (now, value)
    return value


def forget_cached_secrets() -> None:
    global _client
    with _lock:
        _cache.clear()
        _client = None


def load_configuration_secret(*, config: Config) -> None:
    """In production the whole configuration is one JSON secret named by AWS_SECRETS_ID:
    its keys become environment variables (the environment, when set, wins)."""
    secret_id = os.environ.get("AWS_SECRETS_ID")
    if not secret_id:
        return
    for key, value in read_secret(secret_id, config=config).items():
        os.environ.setdefault(key, str(value))
