"""Every kind of entry the timelines and the audit log hold reads as a translated label with
its details, in every language of the backoffice; an unknown one as a translated "Other
event"; and no code writes a kind that nobody registered."""

import ast
import html
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from audit.kinds import AUDIT_ACTIONS, TIMELINE_KINDS
from audit.models import AuditEntry
from booking.models import Reservation, ReservationEvent
from booking.money import format_money
from booking.templatetags.booking_tags import when
from panel_sync.models import PanelConflict
from panel_sync.octo import STAFF_MESSAGES
from payments.models import Anomaly, Method, PaymentIntent, WebhookEvent
from payments.records import PaymentActor
from tenants.models import Role
from tests.factories import hold

LANGUAGES = ["es", "pt-br", "en"]
ROOT = Path(__file__).resolve().parents[2]
PRODUCT_APPS = ["audit", "tenants", "outbox", "booking", "payments", "panel_sync", "backoffice"]


def departure_time(alpha) -> datetime:
    return datetime(2026, 12, 24, 17, 30, tzinfo=ZoneInfo(alpha.time_zone))


def timeline_examples(alpha, currency: str) -> dict[str, tuple[dict, callable]]:
    """Each kind's data as its writer records it, and what its details must say (in the
    language active when called)."""
    at = departure_time(alpha)
    provider = {"intent": 1, "provider": "mercadopago"}
    booking = {"uuid": "0f8e", "seats": 2}
    return {
        "held": ({"seats": 2, "hold_expires_at": at.isoformat()}, lambda: ["2", "17:30"]),
        "hold_extended": ({"hold_expires_at": at.isoformat()}, lambda: ["17:30"]),
        "expired": ({"seats": 3}, lambda: ["3"]),
        "cancelled": ({"seats": 3}, lambda: ["3"]),
        "refunded": ({"seats": 3}, lambda: ["3"]),
        "sold_elsewhere": ({"seats": 3}, lambda: ["3"]),
        "paid": ({}, list),
        "paid_without_seats": ({"seats": 3, "seats_left": 1}, lambda: ["3", "1"]),
        "seats_retaken": (
            {"seats": 2, "was": "expired"},
            lambda: ["2", str(Reservation.Status.EXPIRED.label).lower()],
        ),
        "confirmation_resent": ({}, list),
        "email_sent": ({"to": "ana@example.com"}, lambda: ["ana@example.com"]),
        "passengers_saved": ({"passengers": 4}, lambda: ["4"]),
        "checked_in": ({"was": ""}, list),
        "no_show": ({"was": ""}, list),
        "check_in_undone": ({"was": "arrived"}, list),
        **{
            kind: (
                {"seats": 3, "old_total": 1700000, "new_total": 2550000, "currency": "ARS"},
                lambda: ["3", f"{money(1700000)} → {money(2550000)}"],
            )
            for kind in ("change_pending", "changed", "change_released", "change_not_applied")
        },
        "payment_started": (
            {"intent": 1, "provider": "stripe", "method": "card"},
            lambda: ["Stripe", str(Method.CARD.label)],
        ),
        "payment_start_failed": (provider, lambda: ["Mercado Pago"]),
        "payment_start_unanswered": (provider, lambda: ["Mercado Pago"]),
        "checkout_found": ({**provider, "reference": "pref_1"}, lambda: ["Mercado Pago"]),
        "payment_declined": ({**provider, "attempt": "a1"}, lambda: ["Mercado Pago"]),
        "payment_failed": (provider, lambda: ["Mercado Pago"]),
        "payment_cancelled": (provider, lambda: ["Mercado Pago"]),
        "payment_expired": (provider, lambda: ["Mercado Pago"]),
        "checkout_ended": (provider, lambda: ["Mercado Pago"]),
        "late_payment_refunded": (
            {"refund": 1, "amount": 1234500, "provider_name": "Mercado Pago", "method": "pix"},
            lambda: [money(1234500), "Mercado Pago"],
        ),
        "reconciled": (
            {**provider, "before": "pending", "after": "succeeded"},
            lambda: [
                f"{PaymentIntent.Status.PENDING.label} → {PaymentIntent.Status.SUCCEEDED.label}"
            ],
        ),
        "payment_checked": (
            {
                **provider,
                "answered": True,
                "cancelled": True,
                "before": "pending",
                "after": "expired",
            },
            lambda: [
                f"{PaymentIntent.Status.PENDING.label} → {PaymentIntent.Status.EXPIRED.label}",
                "Mercado Pago",
            ],
        ),
        "webhook_reprocessed": (
            {**provider, "event": "evt_123", "outcome": "applied"},
            lambda: ["evt_123", str(WebhookEvent.Outcome.APPLIED.label)],
        ),
        "refund_requested": ({**provider, "amount": 1234500}, lambda: [money(1234500)]),
        "refund_unanswered": ({**provider, "amount": 1234500}, lambda: [money(1234500)]),
        "refund_failed": ({**provider, "amount": 1234500}, lambda: [money(1234500)]),
        "refund_confirmed": ({**provider, "amount_refunded": 500000}, lambda: [money(500000)]),
        "anomaly": (
            {**provider, "anomaly": "amount_mismatch"},
            lambda: [str(Anomaly.Kind.AMOUNT_MISMATCH.label)],
        ),
        "anomaly_resolved": (
            {"anomaly": "paid_twice"},
            lambda: [str(Anomaly.Kind.PAID_TWICE.label)],
        ),
        "panel_on_hold": (booking, lambda: ["2"]),
        "panel_confirmed": (booking, lambda: ["2"]),
        "panel_cancelled": (booking, lambda: ["2"]),
        "panel_expired": (booking, lambda: ["2"]),
        "panel_updated": (booking, lambda: ["2"]),
        "panel_refused": (
            {"code": "INVALID_PRODUCT_ID"},
            lambda: [str(STAFF_MESSAGES["INVALID_PRODUCT_ID"])],
        ),
        "panel_cancel_refused": (
            {"code": "INVALID_PRODUCT_ID"},
            lambda: [str(STAFF_MESSAGES["INVALID_PRODUCT_ID"])],
        ),
        "panel_conflict_settled": (
            {"conflict": "oversold"},
            lambda: [str(PanelConflict.Kind.OVERSOLD.label)],
        ),
        "panel_conflict_resolved": (
            {"conflict": "refused"},
            lambda: [str(PanelConflict.Kind.REFUSED.label)],
        ),
    }


def money(amount: int, currency: str = "ARS") -> str:
    return format_money(amount, currency)


def audit_examples(alpha) -> dict[str, tuple[dict, callable]]:
    at = departure_time(alpha)
    departure = {"slot": 1, "starts_at": at.isoformat()}
    return {
        "departures_created": (
            {
                "first_day": "2026-12-21",
                "last_day": "2026-12-27",
                "weekdays": [0, 3],
                "times": ["09:00", "15:30"],
                "capacity": 12,
                "created": 6,
            },
            lambda: ["6", "09:00, 15:30", "12", when(date(2026, 12, 21), "day")],
        ),
        "departure_created": ({**departure, "capacity": 12, "is_open": True}, lambda: ["17:30"]),
        "capacity_changed": ({**departure, "from": 10, "to": 25}, lambda: ["17:30", "10 → 25"]),
        "opened": (departure, lambda: ["17:30"]),
        "closed": (departure, lambda: ["17:30"]),
        "price_changed": (
            {
                "rate": 1,
                "currency": "ARS",
                "from": {"amount": 850000, "min": 0, "max": 10},
                "to": {"amount": 900000, "min": 1, "max": 10},
            },
            lambda: [f"{money(850000)} → {money(900000)}", "0 → 1"],
        ),
        "member_granted": ({"role": "manager"}, lambda: [str(Role.MANAGER.label)]),
        "photo_added": ({}, list),
        "photo_deleted": ({}, list),
        "photo_moved": ({}, list),
        "photo_alt_changed": ({}, list),
        "activity_created": ({}, list),
        "activity_changed": ({}, list),
        "activity_archived": ({}, list),
        "activity_restored": ({}, list),
        "rate_created": ({}, list),
        "rate_changed": ({}, list),
        "rate_archived": ({}, list),
        "rate_deleted": ({}, list),
        "rate_restored": ({}, list),
        "rates_reordered": ({}, list),
        "member_removed": ({}, list),
        "settings_changed": (
            {"changes": {"contact_phone": {"old": "", "new": "+54 9 2901 555-0100"}}},
            lambda: ["+54 9 2901 555-0100"],
        ),
        "sender_verified": ({}, list),
        "sender_verification_sent": ({}, list),
    }


def entries(page: str, list_class: str) -> list[str]:
    """The <li>s of the page's list of that class (a timeline or the audit log)."""
    found = re.search(rf'<ol class="{list_class}"[^>]*>(.*?)</ol>', page, re.S)
    assert found, f"no <ol class={list_class}>"
    return re.findall(r"<li>(.*?)</li>", found.group(1), re.S)


def label_of(item: str) -> str:
    return html.unescape(
        re.search(r'<strong class="record-kind"[^>]*>(.*?)</strong>', item).group(1)
    )


def text_of(item: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", item))


def assert_reads_well(items: list[str], registry, examples: dict, marker) -> None:
    """Each example's entry (found by its marker) shows its kind's translated label and its
    details, and never its code."""
    assert set(examples) == {kind.code for kind in registry}, (
        "a registered kind has no example here, or an example names no registered kind"
    )
    with translation.override("en"):
        english = {kind.code: str(kind.label) for kind in registry}
    language = translation.get_language()
    for index, kind in enumerate(registry):
        item = next((i for i in items if marker(index) in text_of(i)), None)
        assert item is not None, f"{kind.code} is not on the page"
        text = text_of(item)
        assert label_of(item) == str(kind.label), kind.code
        if language != "en":
            assert str(kind.label) != english[kind.code], f"{kind.code} not translated"
        assert kind.code not in text.replace(str(kind.label), ""), (kind.code, text)
        for fragment in examples[kind.code][1]():
            assert fragment in text, (kind.code, language, fragment, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_timeline_kind_reads_as_its_label_and_details(staff, alpha, make_slot, language):
    reservation = hold(make_slot(), 2)
    reservation.events.all().delete()
    examples = timeline_examples(alpha, reservation.currency)
    for index, kind in enumerate(TIMELINE_KINDS):
        data, _ = examples.get(kind.code, ({}, list))
        ReservationEvent.objects.create(
            reservation=reservation,
            kind=kind.code,
            actor="stripe webhook",
            note=f"[{index}]",
            data=data,
        )
    client = staff(Role.OWNER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language

    page = client.get(f"/backoffice/reservations/{reservation.code}/").content.decode()

    with translation.override(language):
        items = entries(page, "timeline")
        assert_reads_well(items, TIMELINE_KINDS, examples, lambda index: f"[{index}]")
        stripe = str(PaymentActor.STRIPE_WEBHOOK.label)
        assert all(stripe in text_of(item) for item in items)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_audit_action_reads_as_its_label_and_details(staff, alpha, language):
    client = staff(Role.OWNER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    AuditEntry.objects.all().delete()
    examples = audit_examples(alpha)
    for index, kind in enumerate(AUDIT_ACTIONS):
        data, _ = examples.get(kind.code, ({}, list))
        AuditEntry.objects.create(
            actor="owner@alpha.example", action=kind.code, target=f"[{index}]", data=data
        )

    page = client.get("/backoffice/team/").content.decode()

    with translation.override(language):
        assert_reads_well(
            entries(page, "timeline audit"), AUDIT_ACTIONS, examples, lambda index: f"[{index}]"
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_kind_reads_as_another_event_with_its_code_in_a_title(
    staff, make_slot, language
):
    reservation = hold(make_slot(), 1)
    # Rows of kinds since retired, written as an old version did (bulk_create: unchecked).
    ReservationEvent.objects.bulk_create(
        [ReservationEvent(reservation=reservation, kind="retired_kind", actor="system")]
    )
    AuditEntry.objects.bulk_create([AuditEntry(actor="system", action="retired_action")])
    client = staff(Role.OWNER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language

    timeline = client.get(f"/backoffice/reservations/{reservation.code}/").content.decode()
    audit = client.get("/backoffice/team/").content.decode()

    with translation.override(language):
        other = translation.gettext("Other event")
    if language != "en":
        assert other != "Other event"
    for page, code, list_class in (
        (timeline, "retired_kind", "timeline"),
        (audit, "retired_action", "timeline audit"),
    ):
        item = next(i for i in entries(page, list_class) if f'title="{code}"' in i)
        assert label_of(item) == other
        assert code not in text_of(item)


# Writes of unregistered kinds


def written_kinds() -> list[tuple[str, int, ast.expr, str]]:
    """Every code the product writes as a timeline kind or an audit action: (file, line,
    expression, registry) for the kind argument of `ReservationEvent.objects.create`,
    `add_to_timeline`, panel sync's `_timeline` and `audit_record`."""
    found = []
    for app in PRODUCT_APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not isinstance(node, ast.Call):
                    continue
                call = ast.unparse(node.func)
                keywords = {k.arg: k.value for k in node.keywords}
                where = (str(path.relative_to(ROOT)), node.lineno)
                if call.endswith("ReservationEvent.objects.create") and "kind" in keywords:
                    found.append((*where, keywords["kind"], "timeline"))
                elif call.endswith("add_to_timeline") and node.args:
                    found.append((*where, node.args[0], "timeline"))
                elif call == "_timeline" and len(node.args) > 1:
                    found.append((*where, node.args[1], "timeline"))
                elif call == "audit_record" and "action" in keywords:
                    found.append((*where, keywords["action"], "audit"))
    return found


def test_no_code_writes_a_kind_that_is_not_registered():
    """A literal must be registered; a kind computed from text (an f-string, a
    concatenation) cannot be checked and is refused: name it with its TextChoices member.
    (Kinds passed through variables are checked when written, in every test: conftest.py.)"""
    writes = written_kinds()
    assert len(writes) > 20  # the scan finds the writes it is meant to
    registries = {"timeline": TIMELINE_KINDS, "audit": AUDIT_ACTIONS}
    problems = []
    for path, line, expression, registry in writes:
        if isinstance(expression, ast.JoinedStr | ast.BinOp):
            problems.append(f"{path}:{line}: a computed kind {ast.unparse(expression)}")
        elif isinstance(expression, ast.Constant) and expression.value not in registries[registry]:
            problems.append(f"{path}:{line}: {expression.value!r} is not registered")
    assert problems == []


def test_a_kind_written_without_being_registered_is_caught_when_written(
    unregistered_kinds, make_slot
):
    reservation = hold(make_slot(), 1)

    ReservationEvent.objects.create(reservation=reservation, kind="never_registered", actor="x")
    AuditEntry.objects.create(actor="x", action="never_registered", target="y")

    assert unregistered_kinds == [
        "ReservationEvent 'never_registered'",
        "AuditEntry 'never_registered'",
    ]
    unregistered_kinds.clear()  # caught: this test's own writes are not a failure


def test_an_entry_whose_data_has_an_old_shape_still_shows_its_label(staff, alpha):
    AuditEntry.objects.create(
        actor="system", action="departures_created", target="Boat", data={"created": "six"}
    )

    page = staff(Role.OWNER).get("/backoffice/team/").content.decode()

    [item] = [i for i in entries(page, "timeline audit") if "Boat" in i]
    assert label_of(item) == "Departures created"
