"""The OCTO panel emulator's control API (`/_emulator/...`), as a mixin of `OctoEmulator`: the
panel's catalogue and its own staff's actions (desk bookings, departures, prices), notification
targets, counters, exchanges and the clock. See `octo.py` for the list of endpoints.
"""

from emulators.common import utc_iso
from emulators.octo_catalogue import CatalogueError, parse_notification_target, parse_supplier
from emulators.octo_desk import add_departure, desk_booking, set_departure, set_price, summary
from emulators.octo_objects import SUPPORTED_CAPABILITIES, OctoError
from emulators.server import HttpError, Request, Response

BASE = "/octo/v1"
FAIL_STATUSES = (500, 502, 503, 504)


class OctoControl:
    """Needs `state`, `exchanges`, `notify`, `tick`, `base_url` and `booking_data` of the app."""

    def register_control(self) -> None:
        control = self._control
        for method, path, handler in [
            ("POST", "/suppliers", self.control_supplier_create),
            ("GET", "/suppliers/{sid}", self.control_supplier),
            ("POST", "/suppliers/{sid}/notifications", self.control_notifications),
            ("POST", "/suppliers/{sid}/bookings", self.control_desk_booking),
            ("GET", "/suppliers/{sid}/bookings", self.control_bookings),
            ("POST", "/suppliers/{sid}/bookings/{uuid}/{action}", self.control_booking_action),
            ("POST", "/suppliers/{sid}/departures", self.control_add_departure),
            ("POST", "/suppliers/{sid}/departures/set", self.control_set_departure),
            ("POST", "/suppliers/{sid}/prices", self.control_set_price),
            ("GET", "/counters", self.control_counters),
            ("GET", "/exchanges", self.control_exchanges),
            ("GET", "/clock", self.control_clock),
            ("POST", "/clock", self.control_clock),
        ]:
            self.route(method, "/_emulator" + path, control(handler))

    def _control(self, handler):
        def wrapped(request: Request) -> Response:
            try:
                body = request.json() if request.method == "POST" else {}
                if not isinstance(body, dict):
                    raise CatalogueError("the body must be a JSON object")
                status, data = handler(request, body)
            except (CatalogueError, ValueError) as error:
                status, data = 400, {"error": str(error)}
            except OctoError as error:
                status = 409 if error.code == "UNPROCESSABLE_ENTITY" else 400
                status = 404 if error.code.startswith("INVALID_") else status
                data = error.body
            return Response.json(data, status, indent=2)

        return wrapped

    def _supplier(self, request: Request):
        supplier = self.state.suppliers.get(request.params["sid"])
        if supplier is None:
            message = f"no supplier {request.params['sid']!r}"
            raise HttpError(Response.json({"error": message}, 404))
        return supplier

    def control_supplier_create(self, request, body):
        supplier = parse_supplier(body)
        target = body.get("notifications")
        supplier.notifications = parse_notification_target(target) if target else None
        self.state.add_supplier(supplier)
        for booking in body.get("bookings") or []:
            desk_booking(self.state, supplier, booking)
        data = summary(self.state, supplier)
        data.update({"api_key": supplier.api_key, "endpoint": self.base_url(request) + BASE})
        return 201, data

    def control_supplier(self, request, body):
        return 200, summary(self.state, self._supplier(request))

    def control_notifications(self, request, body):
        supplier = self._supplier(request)
        target = supplier.notifications = parse_notification_target(body)
        return 200, {"notifications": vars(target) if target else None}

    def control_desk_booking(self, request, body):
        supplier = self._supplier(request)
        booking, change = desk_booking(self.state, supplier, body)
        self.notify([change])
        return 201, self.booking_data(supplier, booking, set(SUPPORTED_CAPABILITIES))

    def control_bookings(self, request, body):
        supplier = self._supplier(request)
        rows = []
        for booking in self.state.bookings[supplier.id].values():
            data = self.booking_data(supplier, booking, set(SUPPORTED_CAPABILITIES))
            rows.append({"channel": booking.channel, **data})
        return 200, {"bookings": rows}

    def control_booking_action(self, request, body):
        supplier = self._supplier(request)
        booking_uuid, action = request.params["uuid"], request.params["action"]
        if action == "confirm":
            booking, changed = self.state.confirm(supplier, booking_uuid, {"contact": {}, **body})
        elif action == "cancel":
            booking, changed = self.state.cancel(supplier, booking_uuid, {"force": True, **body})
        else:
            return 404, {"error": f"unknown action {action!r}: confirm or cancel"}
        if changed:
            self.notify([self.state.booking_change(supplier, booking)])
        return 200, self.booking_data(supplier, booking, set(SUPPORTED_CAPABILITIES))

    def control_add_departure(self, request, body):
        departure, change = add_departure(self.state, self._supplier(request), body)
        self.notify([change])
        return 201, {"availabilityId": departure.id, "capacity": departure.capacity}

    def control_set_departure(self, request, body):
        change = set_departure(self.state, self._supplier(request), body)
        self.notify([change])
        dep = change.departures[0]
        return 200, {"availabilityId": dep.id, "capacity": dep.capacity, "closed": dep.closed}

    def control_set_price(self, request, body):
        change = set_price(self.state, self._supplier(request), body)
        self.notify([change])
        return 200, {"departures": len(change.departures)}

    def control_counters(self, request, body):
        supplier_id = request.arg("supplierId")
        rows = self.state.counter_rows()
        return 200, {
            "counters": [r for r in rows if not supplier_id or r["supplierId"] == supplier_id]
        }

    def control_exchanges(self, request, body):
        since = int(request.arg("since", "0") or 0)
        rows = [row for row in self.exchanges if row["seq"] > since]
        return 200, {"exchanges": rows, "last": self._sequence}

    def control_clock(self, request, body):
        if request.method == "POST":
            seconds = body.get("advance_seconds")
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise CatalogueError("advance_seconds must be a non-negative number")
            self.state.clock_offset += seconds
            self.tick()
        return 200, {"now": utc_iso(self.state.now()), "offset_seconds": self.state.clock_offset}

    def control_behaviour(self, request: Request) -> Response:
        if request.method == "POST":
            body = request.json()
            status = body.get("fail_status") if isinstance(body, dict) else None
            if status is not None and status not in FAIL_STATUSES:
                message = f"fail_status must be one of {', '.join(map(str, FAIL_STATUSES))}"
                return Response.json({"error": message}, 400)
        return super().control_behaviour(request)
