"""AWS Secrets Manager: the project's configuration secret, and per-operator secrets.

The endpoint is configurable (AWS_ENDPOINT_URL_SECRETS_MANAGER, honoured by boto3 itself),
which is how development and tests use moto's server instead of AWS.
"""

import json
import os
import threading
import time
from typing import Any

import boto3

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_lock = threading.Lock()
_client = None


def _secrets_client():
    global _client
    if _client is None:
        _client = boto3.client(
            "secretsmanager", region_name=os.environ.get("AWS_REGION", "us-east-1")
        )
    return _client


def read_secret(secret_id: str, *, max_age: float = 300.0) -> dict[str, Any]:
    """The JSON of a secret, cached for `max_age` seconds (rotations land within that)."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(secret_id)
        if cached and now - cached[0] < max_age:
            return cached[1]
    value = json.loads(_secrets_client().get_secret_value(SecretId=secret_id)["SecretString"])
    with _lock:
        _cache[secret_id] = (now, value)
    return value


def forget_cached_secrets() -> None:
    global _client
    with _lock:
        _cache.clear()
        _client = None


def load_configuration_secret() -> None:
    """In production the whole configuration is one JSON secret named by AWS_SECRETS_ID:
    its keys become environment variables (the environment, when set, wins)."""
    secret_id = os.environ.get("AWS_SECRETS_ID")
    if not secret_id:
        return
    for key, value in read_secret(secret_id).items():
        os.environ.setdefault(key, str(value))
