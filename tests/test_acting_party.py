"""Every service that changes data names its acting party (DESIGN.md, invariant 11): the
`actor` is required and keyword-only, so forgetting it is a TypeError; an actor of the wrong
kind, a role too junior, another operator's staff or another browser is refused before
anything changes."""

import importlib
import inspect

import pytest
from django.core.exceptions import PermissionDenied

from booking.catalogue import slot_set_capacity
from booking.models import Reservation
from booking.services import reservation_cancel, reservation_confirm_payment
from tenants.actors import Actor
from tenants.models import Operator, Role
from tests.factories import SYSTEM, hold, provider, staff, traveller

SERVICE_MODULES = [
    "tenants.services",
    "booking.services",
    "booking.catalogue",
    "booking.photos",
    "booking.changes",
    "booking.cancellation",
    "payments.services.checkout",
    "payments.services.webhooks",
    "payments.services.transitions",
    "payments.services.refunds",
    "payments.services.reconciliation",
    "payments.services.anomalies",
    "payments.services.changes",
    "payments.services.cancellation",
    "payments.services.late_money",
    "panel_sync.services.connection",
    "panel_sync.services.catalogue",
    "panel_sync.services.push",
    "panel_sync.services.push_queue",
    "panel_sync.services.pull",
    "panel_sync.services.conflicts",
    "panel_sync.services.octo_terms",
]
# Public functions of those modules that take no actor, and why.
WITHOUT_ACTOR = {
    "reservation_price": "pure: prices passenger counts, writes nothing",
    "public_site_ensure": "run by `make migrate`: the platform's own site and domains",
    "tenant_template_refresh": "run by `make migrate`: the schema new operators are cloned from",
    "staff_user_upsert": "called at sign-in with the claims of a verified ID token",
    "webhook_seen": "a read",
    "payment_apply_webhook": "its acting party is the `webhook` it takes, verified before",
    "webhook_apply_again": "as payment_apply_webhook: a verified webhook's redelivery",
    "webhook_reject": "records that a sender failed verification, and nothing else",
    "intent_apply_facts": "in a verified webhook's transaction; names the provider itself",
    "anomaly_raise": "in the transition path's transaction, for staff to see",
    "refunds_settle": "in the transaction of a refund request or a provider's confirmation",
    "refundable_now": "a read, of an intent its caller locked",
    "deliver_refund": "the outbox's consumer: calls refund_send as the system",
    "refund_refused": "records a provider's refusal of a refund, in the caller's transaction",
    "checkouts_end_when_released": "booking's receiver, in the transaction of the change",
    "deliver_checkout_end": "the outbox's consumer: ends a checkout at its provider as the system",
    "late_money_refund": "in the transition path's transaction; refunds as the system",
    "seats_gone_for": "a read",
    "change_quote": "a read: prices a change, writes nothing",
    "change_pending": "a read",
    "panel_client": "builds a client from the operator's secret, writes nothing",
    "octo_amount": "pure: converts an OCTO price",
    "unit_price": "pure: reads an OCTO unit's price",
    "activity_suggestions": "a read",
    "rate_suggestion": "a read",
    "push_when_changed": "booking's receiver, in the transaction of a change its actor made",
    "deliver_push": "the outbox's consumer: calls panel_push as the system",
    "wanted": "pure: what a reservation asks of the panel",
    "booking_uuid": "pure: the OCTO uuid of an attempt",
    "booking_seats": "pure: the seats of an OCTO booking",
    "unit_items": "pure: a reservation's passengers as the panel's unit ids",
    "contact": "pure: a reservation's contact as OCTO writes it",
    "pushes_pending": "a read",
    "share": "pure: a percentage of an amount",
    "cancellation_terms": "pure: what a cancellation policy gives back at a moment",
    "reservation_terms": "pure: cancellation_terms of a reservation",
    "cancel_refusal": "a read: why a booking may not be cancelled now",
    "email_matches": "pure: compares a booking's e-mail",
    "traveller_cancellation": "a read",
    "money_kept": "a read",
    "cancellation_refunds": "a read",
    "cancellation_quote": "a read: what cancelling now would give back",
    "send_cancellation": "the outbox's consumer: sends the e-mail as the system",
}


def public_functions():
    for name in SERVICE_MODULES:
        module = importlib.import_module(name)
        for function_name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == name and not function_name.startswith("_"):
                yield f"{name}.{function_name}", function


SERVICES = dict(public_functions())


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_requires_its_actor(name):
    function = SERVICES[name]
    if function.__name__ in WITHOUT_ACTOR:
        return
    parameter = inspect.signature(function).parameters.get("actor")
    assert parameter is not None, f"{name} takes no actor"
    assert parameter.kind in (
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )
    assert parameter.default is inspect.Parameter.empty, f"{name} has a default actor"


def test_the_exemptions_name_existing_services():
    names = {function.__name__ for _, function in public_functions()}
    assert set(WITHOUT_ACTOR) <= names


def test_forgetting_the_actor_is_an_error_not_a_bypass(make_slot):
    slot = make_slot(capacity=5)
    with pytest.raises(TypeError, match="actor"):
        slot_set_capacity(slot_id=slot.pk, capacity=9)
    with pytest.raises(TypeError, match="Actor is required"):
        slot_set_capacity(slot_id=slot.pk, capacity=9, actor=None)
    with pytest.raises(TypeError, match="Actor is required"):
        slot_set_capacity(slot_id=slot.pk, capacity=9, actor="manager@alpha.example")
    slot.refresh_from_db()
    assert slot.capacity == 5


def test_actors_of_the_wrong_kind_are_refused(make_slot):
    slot = make_slot(capacity=5)
    reservation = hold(slot, 2)
    for wrong in (traveller(), provider(), SYSTEM):
        with pytest.raises(PermissionDenied):
            slot_set_capacity(slot_id=slot.pk, capacity=1, actor=wrong)
    for wrong in (traveller(), SYSTEM, staff(Role.OWNER)):
        with pytest.raises(PermissionDenied):
            reservation_confirm_payment(reservation_id=reservation.pk, actor=wrong)
    with pytest.raises(PermissionDenied):
        reservation_cancel(reservation_id=reservation.pk, actor=provider())
    reservation.refresh_from_db()
    slot.refresh_from_db()
    assert (reservation.status, slot.capacity, slot.taken) == ("held", 5, 2)


def test_a_traveller_cancels_only_what_their_own_browser_held(make_slot):
    reservation = hold(make_slot(capacity=5), 2, scope="browser-a")
    with pytest.raises(PermissionDenied):
        reservation_cancel(reservation_id=reservation.pk, actor=traveller("browser-b"))
    assert Reservation.objects.get(pk=reservation.pk).status == "held"
    reservation_cancel(reservation_id=reservation.pk, actor=traveller("browser-a"))
    assert Reservation.objects.get(pk=reservation.pk).status == "cancelled"


def test_staff_act_only_at_their_own_operator_and_with_the_role(make_slot):
    slot = make_slot(capacity=5)
    beta = Operator.objects.get(schema_name="beta")
    with pytest.raises(PermissionDenied, match="not staff of alpha"):
        slot_set_capacity(slot_id=slot.pk, capacity=9, actor=staff(Role.OWNER, operator=beta))
    with pytest.raises(PermissionDenied, match="manager needed"):
        slot_set_capacity(slot_id=slot.pk, capacity=9, actor=staff(Role.AGENT))
    slot_set_capacity(slot_id=slot.pk, capacity=9, actor=staff(Role.MANAGER))
    slot.refresh_from_db()
    assert slot.capacity == 9


def test_a_traveller_needs_a_client_scope():
    with pytest.raises(ValueError):
        Actor.traveller("")
