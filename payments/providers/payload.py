"""Reading a provider's JSON after its signature was verified. A signature says who sent the
body, not that the body is what we expect: every field the product reads is checked here for
its type and shape, and anything else raises MalformedWebhook (a 400, logged, nothing applied)
instead of reaching the database or `int()` as it came.
"""

import json
import re

from payments.providers.base import MalformedWebhook

# Provider object ids (evt_…, cs_…, pi_…, re_…, ch_…; Mercado Pago's numbers as text).
OBJECT_ID = re.compile(r"[A-Za-z0-9_\-]{1,255}")
# Event types and statuses: checkout.session.completed, payment.updated, requires_action.
NAME = re.compile(r"[A-Za-z0-9_.\-]{1,120}")
# Our own ids, as we wrote them into the provider's metadata: a PostgreSQL bigint at most.
OUR_ID = re.compile(r"[0-9]{1,18}")
CURRENCY = re.compile(r"[A-Za-z]{3}")

_MISSING = object()


def json_object(body: bytes) -> dict:
    """The body as a JSON object: UTF-8 (as both providers send), not nested beyond what
    Python's parser can take, an object at the top."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedWebhook(f"the body is not JSON: {type(exc).__name__}") from exc
    if not isinstance(payload, dict):
        raise MalformedWebhook(f"the body is a JSON {type(payload).__name__}, not an object")
    return payload


def _value(container: dict, key: str, required: bool):
    value = container.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise MalformedWebhook(f"{key} is missing")
        return None
    return value


def mapping(container: dict, key: str, *, required: bool = True) -> dict | None:
    value = _value(container, key, required)
    if value is not None and not isinstance(value, dict):
        raise MalformedWebhook(f"{key} is not an object")
    return value


def text(
    container: dict, key: str, *, pattern: re.Pattern = NAME, required: bool = True
) -> str | None:
    """A string of the given shape (an empty string counts as absent)."""
    value = _value(container, key, required)
    if value is None or value == "":
        if required:
            raise MalformedWebhook(f"{key} is empty")
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise MalformedWebhook(f"{key} is not a valid value")
    return value


def message(container: dict, key: str, *, limit: int = 500) -> str:
    """Free text for people (a decline's message): any string, cut, without NUL."""
    value = container.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedWebhook(f"{key} is not text")
    return value.replace("\x00", "")[:limit]


def integer(container: dict, key: str, *, required: bool = True) -> int | None:
    """An integer (a JSON number without a fraction; not a boolean, not a string)."""
    value = _value(container, key, required)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise MalformedWebhook(f"{key} is not an integer")
    return value


def our_id(metadata: dict | None, key: str) -> int | None:
    """One of our ids that we wrote into the provider's metadata, if it is there."""
    if not metadata:
        return None
    value = text(metadata, key, pattern=OUR_ID, required=False)
    return int(value) if value is not None else None
