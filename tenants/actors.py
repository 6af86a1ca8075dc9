"""Who acts on an operator's data (DESIGN.md, invariant 11). Every service that changes data
takes an `Actor`, required and keyword-only, and checks it before anything changes: there is
no default that skips a permission check, and forgetting to pass one is a TypeError.

- `Actor.staff(membership)`: a staff member, by their membership at the operator in use;
  services name the least role they need.
- `Actor.traveller(client_scope)`: a traveller's browser (its session's client id), which owns
  the reservations it made.
- `Actor.provider(name)`: a payment provider's verified word: a webhook whose signature was
  checked, or an answer from the provider's own API.
- `Actor.system(task)`: the platform itself: a periodic task, provisioning, the demo seed.

`str(actor)` is what timelines and the audit log record.
"""

import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest

from tenants.models import Membership, Role, StaffUser


class ActorKind(StrEnum):
    STAFF = "staff"
    TRAVELLER = "traveller"
    PROVIDER = "provider"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str
    membership: Membership | None = None
    client_scope: str = ""

    @classmethod
    def staff(cls, membership: Membership) -> "Actor":
        return cls(ActorKind.STAFF, membership.user.email, membership=membership)

    @classmethod
    def traveller(cls, client_scope: str) -> "Actor":
        if not client_scope:
            raise ValueError("a traveller acts through a client scope")
        return cls(ActorKind.TRAVELLER, "traveller", client_scope=client_scope)

    @classmethod
    def provider(cls, name: str) -> "Actor":
        return cls(ActorKind.PROVIDER, name)

    @classmethod
    def system(cls, task: str = "system") -> "Actor":
        return cls(ActorKind.SYSTEM, task)

    def __str__(self) -> str:
        return self.name

    def require(self, *kinds: ActorKind, role: str | None = None) -> "Actor":
        """This actor, if it is of one of `kinds`; staff must also hold `role` (or a more
        trusted one) at the operator whose schema is in use. PermissionDenied otherwise."""
        if self.kind not in kinds:
            raise PermissionDenied(f"{self.kind} {self.name!r} may not do this")
        if self.kind == ActorKind.STAFF:
            if role is None:
                raise ValueError("a service open to staff names the role it needs")
            membership = self.membership
            if membership.operator.schema_name != connection.schema_name:
                raise PermissionDenied(f"{self.name} is not staff of {connection.schema_name}")
            if not membership.grants(role):
                raise PermissionDenied(f"{self.name} is {membership.role}; {Role(role)} needed")
        return self


def actor_require(actor: Actor, *kinds: ActorKind, role: str | None = None) -> Actor:
    """`actor.require(...)`, refusing anything that is not an Actor (a string, None)."""
    if not isinstance(actor, Actor):
        raise TypeError(f"an Actor is required, not {actor!r}")
    return actor.require(*kinds, role=role)


STAFF, TRAVELLER, PROVIDER, SYSTEM = ActorKind

# The longest `str(actor)`: a staff member's e-mail, as long as StaffUser.email holds. Columns
# that record who acted (timelines, refunds, anomalies) are this long.
ACTOR_MAX_LENGTH = StaffUser._meta.get_field("email").max_length

CLIENT_SESSION_KEY = "client_id"


def client_scope(request: HttpRequest) -> str:
    """A stable id for this browser, kept in its session: a traveller's idempotency keys and
    reservations are scoped to it."""
    if CLIENT_SESSION_KEY not in request.session:
        request.session[CLIENT_SESSION_KEY] = uuid.uuid4().hex
    return request.session[CLIENT_SESSION_KEY]
