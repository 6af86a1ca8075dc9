"""When PostgreSQL cannot answer: a clear "please try again" page with 503 and Retry-After,
and one line in the log, instead of a 500 and a traceback.

"Cannot answer" is what psycopg calls an operational error: the server restarting or
unreachable, a connection it dropped, too many connections, and a lock not granted within
the connection's `lock_timeout` (settings.DATABASE_LOCK_TIMEOUT_MS), a deadlock or a
serialisation failure. Every transaction of the product is atomic, so a request refused
this way changed nothing and can be sent again as it was. Any other error is a bug: a 500.

Django turns an exception raised anywhere in a request (the tenant lookup included, the
first query of every request) into a response through the URLconf's `handler500`, so that
is where this lives; the page is rendered without the request's context processors, which
would ask the database again.
"""

import logging
import sys

from django import db
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.utils import translation
from psycopg import errors

from tenants.middleware import request_language

# Seconds a client is asked to wait: a lock is usually free again at once, a restarting
# server takes longer.
RETRY_AFTER_CONTENTION = 2
RETRY_AFTER_UNAVAILABLE = 10

_CONTENTION = (
    errors.LockNotAvailable,
    errors.DeadlockDetected,
    errors.SerializationFailure,
    errors.QueryCanceled,
)


def database_unavailable(exc: BaseException | None) -> BaseException | None:
    """psycopg's own error, when `exc` is the database not answering (Django wraps psycopg's
    errors in its own, keeping psycopg's as the cause); else None."""
    if isinstance(exc, db.OperationalError | db.InterfaceError):
        return exc.__cause__ or exc
    return None


def retry_after(cause: BaseException) -> int:
    return RETRY_AFTER_CONTENTION if isinstance(cause, _CONTENTION) else RETRY_AFTER_UNAVAILABLE


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500 of every URLconf: 503 with Retry-After when the database did not answer,
    else the plain 500 page. Called by Django while the exception is being handled."""
    cause = database_unavailable(sys.exc_info()[1])
    with translation.override(request_language(request)):
        if cause is None:
            return HttpResponseServerError(loader.render_to_string("500.html"))
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(retry_after(cause))
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableLogFilter(logging.Filter):
    """On `django.request`: a request refused because the database did not answer is one
    line (which error, and what psycopg said), not a traceback per request while the server
    restarts."""

    def filter(self, record: logging.LogRecord) -> bool:
        cause = database_unavailable(record.exc_info[1] if record.exc_info else None)
        if cause is not None:
            summary = " ".join(str(cause).split())[:300]
            record.msg = f"{record.msg} (database did not answer: {type(cause).__name__}: %s)"
            record.args = (*(record.args or ()), summary)
            record.exc_info = None
            record.exc_text = None
        return True
