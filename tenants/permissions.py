"""Who may do what in an operator's backoffice (invariant 9: a tenant's staff see and change
only that tenant's data).

Access is a `Membership` of the signed-in staff user in the operator whose site serves the
request (`request.tenant`), with a role: owner > manager > agent. Views use `staff_required`;
services that act for a staff member call `membership_require`.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django_htmx.http import HttpResponseClientRedirect

from tenants.auth import provider_logout_url
from tenants.models import Membership, Operator, Role


def membership_of(user, operator: Operator | None) -> Membership | None:
    """The membership of an active, signed-in `user` at `operator`, or None."""
    if operator is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    membership = Membership.objects.filter(user=user, operator=operator).first()
    if membership is not None:
        # Both are at hand: pages that show them need no further query.
        membership.user, membership.operator = user, operator
    return membership


def membership_require(user, operator: Operator, role: str = Role.AGENT) -> Membership:
    """The user's membership at `operator`, if it grants `role` (or a more trusted one);
    PermissionDenied otherwise. For services acting on behalf of a staff member."""
    required = Role(role)
    membership = membership_of(user, operator)
    if membership is None:
        raise PermissionDenied(f"{user} has no access to {operator}")
    if not membership.grants(required):
        raise PermissionDenied(f"{user} is {membership.role} at {operator}; {required} needed")
    return membership


def no_access_response(
    request: HttpRequest,
    *,
    email: str,
    sub: str,
    signed_in: bool,
    membership: Membership | None = None,
    required_role: Role | None = None,
) -> HttpResponse:
    """The 403 page: no membership at this operator (with a way to sign out, so another
    account can sign in), or a role too junior for the page."""
    context = {
        "email": email,
        "staff_sub": sub,
        "signed_in": signed_in,
        "membership": membership,
        "required_role": required_role.label if required_role else "",
        "provider_logout_url": "" if signed_in else provider_logout_url(request),
        "staff_home_url": settings.LOGIN_REDIRECT_URL,
    }
    return render(request, "tenants/no_access.html", context, status=403)


def staff_required(
    view: Callable[..., HttpResponse] | None = None, *, role: str = Role.AGENT
) -> Callable[..., HttpResponse]:
    """Decorate a backoffice view: anonymous users are sent to sign in (and brought back),
    a user without a membership at this operator or with a role below `role` gets the 403
    page, and the view finds the membership on `request.membership`.

    Use as ``@staff_required`` or ``@staff_required(role="manager")``."""
    required = Role(role)

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            response = checked(request, *args, **kwargs)
            # Staff pages and exports carry customers' data: never kept by any cache.
            add_never_cache_headers(response)
            return response

        def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                if getattr(request, "htmx", False):
                    # A fragment request cannot follow the provider's pages: reload instead.
                    return HttpResponseClientRedirect(settings.LOGIN_URL)
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            membership = membership_of(user, getattr(request, "tenant", None))
            if membership is None or not membership.grants(required):
                return no_access_response(
                    request,
                    email=user.email,
                    sub=user.sub,
                    signed_in=True,
                    membership=membership,
                    required_role=required if membership else None,
                )
            request.membership = membership
            return view(request, *args, **kwargs)

        return wrapped

    return decorator(view) if view is not None else decorator


def staff_may(staff: Membership | None, role: str) -> None:
    """In a service: a staff member acting (`staff`, their membership) must hold `role` at
    the operator whose schema is in use. The system and travellers act with `staff=None`."""
    if staff is None:
        return
    from django.db import connection

    if staff.operator.schema_name != connection.schema_name:
        raise PermissionDenied(f"{staff.user} is not staff of {connection.schema_name}")
    if not staff.grants(role):
        raise PermissionDenied(f"{staff.user} is {staff.role}; {Role(role)} needed")
