"""Check OCTO requests and responses against the standard, `docs/octo/openapi.yaml`, with
openapi-core. For the OCTO panel emulator's tests and, later, for the tests of our panel client:

    violations = exchange_violations(row)        # a row of the emulator's /_emulator/exchanges
    assert_exchanges_conform(panel.exchanges())  # everything a test's client sent and got back

    client = OctoClient(panel.api_url, api_key)  # a small urllib client that checks both ways
    client.post("/bookings", {...})

Readings of the spec (also in docs/octo/README.md): the bearer scheme is compared
case-insensitively (the spec writes `Bearer`, openapi-core compares lowercased names); a path is
found with or without its trailing slash (the spec writes `/products/`, OCTO servers serve
`/products`); and a nullable property that is an `allOf` of one schema (`Booking.cancellation`,
`.availability`, `.voucher`, `UnitItem.ticket`) may be null, as the spec's own examples have it
(OpenAPI 3.0.3 read strictly forbids null there, the referenced schema not being nullable).
An answer the spec cannot describe, a 5xx injected as a fault, has its body checked against
`BaseError` only; a dropped connection has no answer to check.
"""

import functools
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator

SPEC_PATH = Path(__file__).resolve().parent.parent / "docs" / "octo" / "openapi.yaml"
SERVER = "http://octo.invalid"
TIMEOUT_SECONDS = 10


class ContractViolation(AssertionError):
    """A request or a response that the OCTO spec does not allow."""


@functools.cache
def spec() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open() as stream:
        data = yaml.load(stream, Loader=loader)
    data["servers"] = [{"url": SERVER}]
    data["components"]["securitySchemes"]["BearerAuth"]["scheme"] = "bearer"
    for schema in data["components"]["schemas"].values():
        for name, prop in (schema.get("properties") or {}).items():
            if prop.get("nullable") and len(prop.get("allOf") or []) == 1:
                schema["properties"][name] = {
                    "anyOf": [
                        prop["allOf"][0],
                        {"type": "object", "nullable": True, "enum": [None]},
                    ]
                }
    return data


@functools.cache
def openapi() -> OpenAPI:
    # The spec itself is checked once by test_octo_contract.py; skipping it here saves seconds.
    return OpenAPI.from_dict(spec(), config=Config(spec_validator_cls=None))


@functools.cache
def _templates() -> list[tuple[re.Pattern, str]]:
    templates = []
    for path in spec()["paths"]:
        regex = re.sub(r"\{\w+\}", "[^/]+", path.rstrip("/"))
        templates.append((re.compile(f"^{regex}/?$"), path))
    return templates


def spec_path(path: str) -> str | None:
    """The spec's spelling of an OCTO path (`/products` -> `/products/`), or None."""
    for regex, template in _templates():
        if regex.match(path):
            return path.rstrip("/") + ("/" if template.endswith("/") else "")
    return None


def _problems(error: Exception) -> list[str]:
    cause = error.__cause__
    schema_errors = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
    if schema_errors:
        messages = []
        for item in schema_errors:
            where = "/".join(str(part) for part in item.absolute_path) or "(body)"
            details = [sub.message for sub in getattr(item, "context", [])][:3]
            messages.append(
                f"{where}: {item.message}" + (f" ({'; '.join(details)})" if details else "")
            )
        return messages
    return [f"{type(error).__name__}: {error}"]


def _mock_request(method: str, path: str, headers: dict, body: bytes | str | None, query: str):
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    return MockRequest(
        SERVER,
        method.lower(),
        path,
        args=dict(parse_qsl(query or "", keep_blank_values=True)),
        headers=headers,
        data=body if body else None,
        content_type=(content_type or "application/json") if body else None,
    )


@dataclass
class Exchange:
    """One OCTO call: the path is the OCTO path, after the server's base (`/bookings/X`)."""

    method: str
    path: str
    request_headers: dict
    request_body: bytes | str | None = None
    query: str = ""
    status: int | None = None  # None: no answer (the connection was dropped)
    response_headers: dict = field(default_factory=dict)
    response_body: bytes | str | None = None

    @classmethod
    def from_emulator(cls, row: dict, base_path: str = "/octo/v1") -> "Exchange":
        return cls(
            row["method"],
            row["path"].removeprefix(base_path),
            row["requestHeaders"],
            row["requestBody"],
            row["query"],
            row["status"],
            row["responseHeaders"],
            row["responseBody"],
        )


def request_violations(exchange: Exchange) -> list[str]:
    path = spec_path(exchange.path)
    if path is None:
        return [f"{exchange.method} {exchange.path}: no such OCTO path"]
    request = _mock_request(
        exchange.method, path, exchange.request_headers, exchange.request_body, exchange.query
    )
    try:
        openapi().validate_request(request)
    except Exception as error:  # openapi-core raises one class per kind of problem
        return [f"{exchange.method} {exchange.path} request: {p}" for p in _problems(error)]
    return []


def response_violations(exchange: Exchange) -> list[str]:
    if exchange.status is None:
        return []
    path = spec_path(exchange.path)
    if path is None:
        return [f"{exchange.method} {exchange.path}: no such OCTO path"]
    label = f"{exchange.method} {exchange.path} response {exchange.status}"
    if exchange.status >= 500:  # not OCTO speaking: only its error body can be checked
        errors = base_error_violations(exchange.response_body)
        return [f"{label}: {error}" for error in errors]
    request = _mock_request(
        exchange.method, path, exchange.request_headers, exchange.request_body, exchange.query
    )
    headers = dict(exchange.response_headers)
    content_type = next(
        (v for k, v in headers.items() if k.lower() == "content-type"), "application/json"
    )
    body = exchange.response_body or b""
    response = MockResponse(
        body.encode() if isinstance(body, str) else body,
        status_code=exchange.status,
        headers=headers,
        content_type=content_type,
    )
    try:
        openapi().validate_response(request, response)
    except Exception as error:
        return [f"{label}: {problem}" for problem in _problems(error)]
    return []


def base_error_violations(body: bytes | str | None) -> list[str]:
    try:
        data = json.loads(body or b"")
    except ValueError:
        return ["the body is not JSON"]
    schema = spec()["components"]["schemas"]["BaseError"]
    return [error.message for error in OAS30Validator(schema).iter_errors(data)]


def exchange_violations(exchange: Exchange | dict) -> list[str]:
    if isinstance(exchange, dict):
        exchange = Exchange.from_emulator(exchange)
    return request_violations(exchange) + response_violations(exchange)


def assert_exchanges_conform(exchanges: list) -> None:
    problems = [problem for exchange in exchanges for problem in exchange_violations(exchange)]
    if problems:
        raise ContractViolation("\n".join(problems))


# A checking client ----------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    @property
    def data(self):
        return json.loads(self.body) if self.body else None


class OctoClient:
    """Calls an OCTO server over HTTP (urllib, with a timeout) and raises `ContractViolation`
    when the request it sent or the response it got breaks the spec."""

    def __init__(self, base_url: str, api_key: str | None, capabilities=("octo/pricing",)):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.capabilities = list(capabilities)

    def headers(self) -> dict:
        headers = {"Octo-Capabilities": ", ".join(self.capabilities)}
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        query: dict | None = None,
        headers: dict | None = None,
        check_request: bool = True,
        check_response: bool = True,
    ) -> Reply:
        all_headers = {**self.headers(), **(headers or {})}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        query_string = "&".join(
            f"{k}={urllib.request.quote(str(v))}" for k, v in (query or {}).items()
        )
        url = self.base_url + path + (f"?{query_string}" if query_string else "")
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                reply = Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            reply = Reply(error.code, dict(error.headers), error.read())
        exchange = Exchange(
            method,
            urlsplit(url).path.removeprefix(urlsplit(self.base_url).path),
            all_headers,
            data,
            query_string,
            reply.status,
            reply.headers,
            reply.body,
        )
        problems = request_violations(exchange) if check_request else []
        problems += response_violations(exchange) if check_response else []
        if problems:
            raise ContractViolation("\n".join(problems))
        return reply

    def get(self, path: str, **options) -> Reply:
        return self.call("GET", path, **options)

    def post(self, path: str, body: object = None, **options) -> Reply:
        return self.call("POST", path, {} if body is None else body, **options)

    def patch(self, path: str, body: object, **options) -> Reply:
        return self.call("PATCH", path, body, **options)
