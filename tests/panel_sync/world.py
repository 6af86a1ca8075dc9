"""The panel of Alpha's tests: its catalogue on the OCTO emulator, and a small world to act on
both sides (holds and payments here, the desk and faults there, pulls and pushes between)."""

import time as time_module
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django_tenants.utils import tenant_context

from booking.models import Activity, Reservation, Slot
from booking.services import reservation_confirm_payment
from outbox.delivery import outbox_deliver
from outbox.models import OutboxMessage
from panel_sync.models import PanelBooking, ProductMapping
from panel_sync.services.catalogue import product_map
from panel_sync.services.connection import panel_connect, panel_test_connection
from panel_sync.services.pull import panel_pull
from panel_sync.services.push_queue import PUSH
from tenants.models import Role
from tests import factories
from tests.factories import SYSTEM

TIME_ZONE = "America/Argentina/Ushuaia"  # Alpha's
SUPPLIER = "alpha-panel"
PRODUCT = "PNL-BOAT"
API_KEY = "octo_alpha_key"
NOTIFICATION_TOKEN = "alpha-notifications-token"
PANEL_SECRET_ID = "andes-booking/panel-tests/{schema}"
PANEL_SECRETS = {
    "alpha": {"panel": {"api_key": API_KEY, "notification_token": NOTIFICATION_TOKEN}},
    "beta": {"panel": {"api_key": "octo_beta_key", "notification_token": "beta-token"}},
}
ADULT_PRICE, CHILD_PRICE = 10_000_00, 5_000_00  # as Alpha's boat trip (tests.factories)


def day(offset: int) -> date:
    return datetime.now(ZoneInfo(TIME_ZONE)).date() + timedelta(days=offset)


def start(offset: int, at: str = "10:00") -> datetime:
    return datetime.combine(day(offset), time.fromisoformat(at), ZoneInfo(TIME_ZONE))


def availability_id(offset: int, at: str = "10:00") -> str:
    """The panel's id of a departure: its local start with the product's offset."""
    return start(offset, at).isoformat()


def catalogue(api_key: str = API_KEY) -> dict:
    return {
        "id": SUPPLIER,
        "api_key": api_key,
        "name": "Alpha's panel",
        "locale": "es",
        "currency": "ARS",
        "time_zone": TIME_ZONE,
        "products": [
            {
                "id": PRODUCT,
                "internalName": "Navegación Canal Beagle",
                "durationMinutes": 120,
                "units": [
                    {"id": "adulto", "type": "ADULT", "retail": ADULT_PRICE},
                    {"id": "menor", "type": "CHILD", "retail": CHILD_PRICE},
                ],
                "departures": [
                    {"start": start(3).isoformat()[:16], "capacity": 10},
                    {"start": start(3, "15:00").isoformat()[:16], "capacity": 10},
                    {"start": start(5).isoformat()[:16], "capacity": 4},
                    {"start": start(6).isoformat()[:16], "capacity": 8, "closed": True},
                ],
            },
            {
                "id": "PNL-TREK",
                "internalName": "Trekking Glaciar Martial",
                "units": [{"id": "adulto", "type": "ADULT", "retail": 6_000_000}],
                "departures": [{"start": start(4).isoformat()[:16], "capacity": 6}],
            },
        ],
    }


class PanelWorld:
    def __init__(self, committed, octo):
        self.committed = committed
        self.operator = committed.operator
        self.octo = octo

    # Setting up

    def connect(self, enabled: bool = True, **fields):
        with tenant_context(self.operator):
            return panel_connect(
                base_url=self.octo.api_url,
                enabled=enabled,
                actor=factories.staff(Role.OWNER),
                **fields,
            )

    def connect_and_map(self) -> Activity:
        self.connect()
        with tenant_context(self.operator):
            tested = panel_test_connection(actor=factories.staff(Role.MANAGER))
            assert tested.ok, tested.message
            activity = factories.activity("boat")
            product_map(
                mapping_id=self.mapping().pk,
                activity_id=activity.pk,
                actor=factories.staff(Role.MANAGER),
            )
            result = panel_pull(actor=SYSTEM)
            assert result.ok, result.error
        self.activity = activity
        return activity

    def mapping(self, product: str = PRODUCT) -> ProductMapping:
        with tenant_context(self.operator):
            return ProductMapping.objects.get(panel_product_id=product)

    # Our side

    def slot(self, offset: int = 3, at: str = "10:00") -> Slot:
        with tenant_context(self.operator):
            return Slot.objects.get(activity__slug="boat", starts_at=start(offset, at))

    def reload(self, slot: Slot) -> Slot:
        return self.committed.reload(slot)

    def hold(self, slot: Slot, seats: int = 2, scope: str = "client-1", **kwargs) -> Reservation:
        with tenant_context(self.operator):
            return factories.hold(slot, seats, scope=scope, **kwargs)

    def pay(self, reservation: Reservation) -> None:
        with tenant_context(self.operator):
            reservation_confirm_payment(reservation_id=reservation.pk, actor=factories.provider())

    def pull(self, **scope):
        with tenant_context(self.operator):
            return panel_pull(actor=SYSTEM, **scope)

    def bookings_here(self, reservation: Reservation) -> list[PanelBooking]:
        with tenant_context(self.operator):
            return list(PanelBooking.objects.filter(reservation=reservation).order_by("attempt"))

    def timeline(self, reservation: Reservation) -> list[str]:
        with tenant_context(self.operator):
            return list(reservation.events.values_list("kind", flat=True))

    def pushes(self):
        with tenant_context(self.operator):
            return list(OutboxMessage.objects.filter(topic=PUSH).order_by("id"))

    def deliver_due(self, now: datetime) -> list[bool]:
        """What the outbox's sweep does at `now`: deliver every push that is due."""
        with tenant_context(self.operator):
            due = OutboxMessage.objects.due(now).filter(topic=PUSH).values_list("pk", flat=True)
            return [outbox_deliver(message_id=pk, now=now) for pk in list(due)]

    # The panel's side

    def panel_booking(self, uuid, wait: float = 0) -> dict:
        """The panel's booking under `uuid` (waiting up to `wait` seconds for it to appear)."""
        deadline = time_module.monotonic() + wait
        while True:
            found = [b for b in self.octo.bookings(SUPPLIER) if b["uuid"] == str(uuid)]
            if found or time_module.monotonic() > deadline:
                return found[0]
            time_module.sleep(0.05)

    def counts(self, operation: str, uuid) -> dict:
        zero = {"calls": 0, "applied": 0, "refused": 0}
        row = self.octo.counters(SUPPLIER).get((operation, str(uuid)), zero)
        return {key: row[key] for key in zero}

    def desk(self, offset: int = 3, at: str = "10:00", adults: int = 1, **fields) -> dict:
        return self.octo.desk_booking(
            SUPPLIER, PRODUCT, availability_id(offset, at), {"adulto": adults}, **fields
        )

    def quiet(self, timeout: float = 15) -> None:
        """No more notifications to us, and none still on its way (they would reach the app
        after the test, on a database the next test may not allow)."""
        self.octo.notify_to(SUPPLIER, None)
        deadline = time_module.monotonic() + timeout
        while self.octo.control("/deliveries")["in_flight"]:
            assert time_module.monotonic() < deadline, "the panel's notifications never settled"
            time_module.sleep(0.05)

    def departure(self, offset: int = 3, at: str = "10:00") -> dict:
        return self.octo.departure(SUPPLIER, PRODUCT, availability_id(offset, at))
