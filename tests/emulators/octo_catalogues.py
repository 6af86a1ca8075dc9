"""A small panel catalogue for the OCTO emulator's tests, and a client for it."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.octo_contract import OctoClient

TIME_ZONE = "America/Argentina/Ushuaia"
BOAT, TREK = "PNL-BOAT", "PNL-TREK"


def day(offset: int) -> date:
    return datetime.now(ZoneInfo(TIME_ZONE)).date() + timedelta(days=offset)


def start(offset: int, at: str = "10:00") -> str:
    """An availability id: the local start with the product's offset, `...T10:00:00-03:00`."""
    moment = datetime.combine(day(offset), time.fromisoformat(at), ZoneInfo(TIME_ZONE))
    return moment.isoformat()


def catalogue(api_key: str, supplier_id: str) -> dict:
    return {
        "id": supplier_id,
        "api_key": api_key,
        "name": "Canal Tours (panel)",
        "locale": "es",
        "currency": "ARS",
        "time_zone": TIME_ZONE,
        "contact": {"email": "panel@example.com"},
        "products": [
            {
                "id": BOAT,
                "internalName": "Navegación por el Canal Beagle",
                "description": "Catamarán al faro Les Eclaireurs.",
                "durationMinutes": 150,
                "meetingPoint": {
                    "title": "Muelle Turístico",
                    "latitude": -54.8,
                    "longitude": -68.3,
                },
                "cancellationCutoffAmount": 1,
                "cancellationCutoffUnit": "day",
                "units": [
                    {"id": "adulto", "type": "ADULT", "retail": 8_500_000, "net": 6_800_000},
                    {"id": "menor", "type": "CHILD", "retail": 4_250_000, "maxQuantity": 4},
                ],
                "departures": [
                    {"start": start(2)[:16], "capacity": 10},
                    {"start": start(2, "15:00")[:16], "capacity": 10},
                    {"start": start(3)[:16], "capacity": 4},
                    {"start": start(4)[:16], "capacity": 10, "closed": True},
                    {"start": start(0, "00:01")[:16], "capacity": 10},  # past: closed by cutoff
                ],
            },
            {
                "id": TREK,
                "internalName": "Trekking al Glaciar Martial",
                "options": [
                    {
                        "id": "HALF",
                        "internalName": "Medio día",
                        "minUnits": 1,
                        "maxUnits": 3,
                        "units": [{"id": "adult", "type": "ADULT", "retail": 6_000_000}],
                        "schedule": {
                            "from": day(2).isoformat(),
                            "to": day(8).isoformat(),
                            "weekdays": [0, 1, 2, 3, 4, 5, 6],
                            "times": ["09:00", "14:00"],
                            "capacity": 8,
                        },
                    },
                    {
                        "id": "FULL",
                        "internalName": "Día completo",
                        "units": [{"id": "adult", "type": "ADULT", "retail": 9_000_000}],
                        "departures": [{"start": start(2, "08:00")[:16], "capacity": 6}],
                    },
                ],
            },
        ],
    }


@dataclass
class Panel:
    """A supplier created on the emulator, with a checking client for its key."""

    octo: object  # emulators.octo_testing.OctoPanel
    id: str
    api_key: str

    def client(self, *capabilities: str) -> OctoClient:
        return OctoClient(self.octo.api_url, self.api_key, capabilities)

    def reserve(self, client: OctoClient, availability_id: str, units: list[str], **fields):
        body = {
            "uuid": str(uuid.uuid4()),
            "productId": BOAT,
            "optionId": "DEFAULT",
            "availabilityId": availability_id,
            "unitItems": [{"unitId": unit} for unit in units],
            **fields,
        }
        return client.post("/bookings", body)

    def vacancies(self, availability_id: str, product: str = BOAT) -> int:
        return self.octo.departure(self.id, product, availability_id)["vacancies"]
