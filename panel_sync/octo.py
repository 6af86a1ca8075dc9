"""The OCTO client: the calls we make to the operator's activity panel (`../shared/octo/
openapi.yaml`), and its answers as Python data or one of two errors.

- `PanelError(code, message, status)`: the panel answered and refused (an OCTO error,
  `{"error", "errorMessage"}`); `staff_message` says it in the staff's language.
- `PanelUnavailable`: no usable answer (connection refused or dropped, a timeout, a 5xx, an
  INTERNAL_SERVER_ERROR, a body that is not JSON): worth trying again later.

Every request has a connect and a read timeout (settings.PANEL_CONNECT_TIMEOUT and
PANEL_READ_TIMEOUT) and is sent once: no retries inside a request, as the outbox retries
pushes and the next pull retries reads. Requests carry `Authorization: Bearer <api key>` and
`Octo-Capabilities` (the capabilities we ask for); the panel's `Octo-Capabilities` answer is
what it agreed to (`OctoClient.capabilities`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import requests
from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from requests.adapters import HTTPAdapter

logger = logging.getLogger(__name__)

PRICING = "octo/pricing"
CONTENT = "octo/content"
REQUESTED_CAPABILITIES = (PRICING, CONTENT)

# OCTO's error codes, in the staff's words.
STAFF_MESSAGES = {
    "INVALID_PRODUCT_ID": _(
        "The panel does not know this product any more: check the product's mapping."
    ),
    "INVALID_OPTION_ID": _(
        "The panel does not know this product option any more: check the product's mapping."
    ),
    "INVALID_UNIT_ID": _(
        "The panel does not know one of the passenger types: check the rates' mapping."
    ),
    "INVALID_AVAILABILITY_ID": _(
        "The panel has no such departure (removed, moved or not published there)."
    ),
    "INVALID_BOOKING_UUID": _(
        "The panel has no booking under this reference, or it has expired there."
    ),
    "UNPROCESSABLE_ENTITY": _(
        "The panel refused the booking: sold out, closed or past its cut-off there."
    ),
    "BAD_REQUEST": _("The panel could not read our request."),
    "UNAUTHORIZED": _("The panel received no API key: check the operator's panel secret."),
    "FORBIDDEN": _("The panel refused our API key: check the operator's panel secret."),
    "INTERNAL_SERVER_ERROR": _("The panel had an internal error; we will try again."),
}
UNKNOWN_ERROR = _("The panel answered with an error.")
# Errors about who we are, not about what we asked: a push is retried (staff can fix the
# key meanwhile), never recorded as the panel's refusal of the booking.
CREDENTIAL_ERRORS = ("UNAUTHORIZED", "FORBIDDEN")


class PanelError(Exception):
    """The panel refused: an OCTO error code, its message, and the HTTP status."""

    def __init__(self, code: str, message: str = "", status: int = 400):
        self.code = code
        self.message = message
        self.status = status
        super().__init__(f"{code}: {message}" if message else code)

    @property
    def staff_message(self) -> str:
        return str(STAFF_MESSAGES.get(self.code, UNKNOWN_ERROR))

    @property
    def about_credentials(self) -> bool:
        return self.code in CREDENTIAL_ERRORS


class PanelUnavailable(Exception):
    """The panel could not be reached or gave no usable answer: try again later."""

    staff_message = _("The panel is not answering; we keep selling from the last known seats.")


class PanelKeyMissing(PanelUnavailable):
    """The operator's secret has no panel API key (or cannot be read): nothing can be asked."""

    staff_message = _('The operator\'s secret has no panel API key ("panel": {"api_key"}).')


@dataclass(frozen=True)
class UnitCount:
    unit_id: str
    quantity: int


class OctoClient:
    """One operator's panel. Cheap to build; build one per task or push."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        capabilities: tuple[str, ...] = REQUESTED_CAPABILITIES,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.requested = tuple(capabilities)
        self.capabilities: list[str] = []
        self.session = session or _session()
        self.timeout = (settings.PANEL_CONNECT_TIMEOUT, settings.PANEL_READ_TIMEOUT)

    # Catalogue

    def supplier(self) -> dict:
        return self._call("GET", "/supplier/")

    def products(self) -> list[dict]:
        return self._call("GET", "/products/")

    def availability(
        self,
        *,
        product_id: str,
        option_id: str,
        local_date_start: date,
        local_date_end: date,
        units: list[UnitCount] | None = None,
    ) -> list[dict]:
        """The departures of an option between two local days (both included)."""
        body: dict[str, Any] = {
            "productId": product_id,
            "optionId": option_id,
            "localDateStart": local_date_start.isoformat(),
            "localDateEnd": local_date_end.isoformat(),
        }
        if units:
            body["units"] = [{"id": unit.unit_id, "quantity": unit.quantity} for unit in units]
        return self._call("POST", "/availability/", body)

    # Bookings

    def reserve(
        self,
        *,
        uuid: str,
        product_id: str,
        option_id: str,
        availability_id: str,
        unit_items: list[str],
        expiration_minutes: int,
        reseller_reference: str | None = None,
        notes: str | None = None,
    ) -> dict:
        """A hold (ON_HOLD) under our own uuid: sent again, it names the same booking."""
        body: dict[str, Any] = {
            "uuid": uuid,
            "productId": product_id,
            "optionId": option_id,
            "availabilityId": availability_id,
            "expirationMinutes": expiration_minutes,
            "unitItems": [{"unitId": unit_id} for unit_id in unit_items],
        }
        if reseller_reference:
            body["resellerReference"] = reseller_reference
        if notes:
            body["notes"] = notes
        return self._call("POST", "/bookings/", body)

    def confirm(self, uuid: str, *, contact: dict, unit_items: list[str] | None = None) -> dict:
        body: dict[str, Any] = {"contact": contact}
        if unit_items is not None:
            body["unitItems"] = [{"unitId": unit_id} for unit_id in unit_items]
        return self._call("POST", f"/bookings/{uuid}/confirm", body)

    def update(
        self,
        uuid: str,
        *,
        product_id: str,
        option_id: str,
        availability_id: str,
        unit_items: list[str],
    ) -> dict:
        """PATCH: the booking on another departure (of the same or another product) or with
        other passengers, as the booking is now here; sent again, it changes nothing more."""
        body = {
            "productId": product_id,
            "optionId": option_id,
            "availabilityId": availability_id,
            "unitItems": [{"unitId": unit_id} for unit_id in unit_items],
        }
        return self._call("PATCH", f"/bookings/{uuid}", body)

    def cancel(self, uuid: str, *, reason: str) -> dict:
        return self._call("POST", f"/bookings/{uuid}/cancel", {"reason": reason})

    def booking(self, uuid: str) -> dict:
        return self._call("GET", f"/bookings/{uuid}")

    def bookings(
        self, *, local_date: date, product_id: str | None = None, option_id: str | None = None
    ) -> list[dict]:
        """The bookings of one local day (OCTO has no pagination: ask day by day)."""
        params = {"localDate": local_date.isoformat()}
        if product_id:
            params["productId"] = product_id
        if option_id:
            params["optionId"] = option_id
        return self._call("GET", "/bookings/", params=params)

    # Transport

    def _call(self, method: str, path: str, body: dict | None = None, params=None) -> Any:
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                json=body,
                params=params,
                headers={
                    "Authorization": f"Bearer {self.api_key}",
                    "Octo-Capabilities": ", ".join(self.requested),
                    "Accept": "application/json",
                },
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise PanelUnavailable(f"{method} {path}: no answer in time ({exc})") from exc
        except requests.RequestException as exc:
            raise PanelUnavailable(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        answered = response.headers.get("Octo-Capabilities")
        if answered is not None:
            self.capabilities = [item.strip() for item in answered.split(",") if item.strip()]
        if response.status_code >= 500 or response.status_code == 429:
            raise PanelUnavailable(f"{method} {path}: HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise PanelUnavailable(
                f"{method} {path}: HTTP {response.status_code} without a JSON body"
            ) from None
        if response.status_code >= 400 or (isinstance(data, dict) and "error" in data):
            code = str(data.get("error") or "") if isinstance(data, dict) else ""
            message = str(data.get("errorMessage") or "") if isinstance(data, dict) else ""
            if code == "INTERNAL_SERVER_ERROR" or not code:
                raise PanelUnavailable(
                    f"{method} {path}: HTTP {response.status_code} {code} {message}".strip()
                )
            raise PanelError(code, message, response.status_code)
        if response.status_code >= 300:
            raise PanelUnavailable(f"{method} {path}: HTTP {response.status_code}")
        return data


def instant(value: object) -> datetime | None:
    """An OCTO timestamp (`utcCreatedAt`, `utcExpiresAt` ...) as an aware instant, or None
    when it is not one."""
    if not isinstance(value, str):
        return None
    parsed = parse_datetime(value)
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def availability_start(item: dict) -> datetime | None:
    """When an OCTO availability starts, as an aware instant (`localDateTimeStart` carries
    the product's UTC offset), or None when it does not say."""
    value = item.get("localDateTimeStart") if isinstance(item, dict) else None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
