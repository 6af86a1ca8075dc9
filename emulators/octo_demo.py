"""The demo operator's activity panel: the same three activities as `seed_demo` (Ushuaia, ARS),
as the panel names them (its own product and unit ids, Spanish unit names), with departures for
the next 60 days and a few bookings already made at its desk.

    python -m emulators.octo --demo      # serves it; the API key is DEMO_API_KEY
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEMO_SUPPLIER_ID = "patagonia-demo-panel"
DEMO_API_KEY = "octo_demo_patagonia_panel_key"
DEMO_TIME_ZONE = "America/Argentina/Ushuaia"
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6]  # Monday is 0


def _start(day: date, at: str) -> str:
    return datetime.combine(day, time.fromisoformat(at), ZoneInfo(DEMO_TIME_ZONE)).isoformat()


def demo_supplier(today: date | None = None, days: int = 60) -> dict:
    """The control API's JSON (`POST /_emulator/suppliers`) for the demo panel."""
    today = today or datetime.now(ZoneInfo(DEMO_TIME_ZONE)).date()
    last = (today + timedelta(days=days)).isoformat()

    def schedule(times: list[str], capacity: int, weekdays: list[int] = EVERY_DAY) -> dict:
        return {
            "from": today.isoformat(),
            "to": last,
            "weekdays": weekdays,
            "times": times,
            "capacity": capacity,
        }

    tomorrow = today + timedelta(days=1)
    penguin_day = next(
        today + timedelta(days=n) for n in range(2, 9) if (today + timedelta(days=n)).weekday()
    )
    return {
        "id": DEMO_SUPPLIER_ID,
        "api_key": DEMO_API_KEY,
        "name": "Patagonia Demo Tours",
        "locale": "es",
        "currency": "ARS",
        "time_zone": DEMO_TIME_ZONE,
        "shortDescription": "Navegaciones, trekking y pingüinos en Ushuaia.",
        "contact": {
            "website": "http://demo.localhost:8000/",
            "email": "hola@patagonia-demo-tours.example",
            "telephone": "+54 2901 000000",
            "address": "San Martín 1234, Ushuaia, Tierra del Fuego",
        },
        "products": [
            {
                "id": "PNL-BEAGLE-CAT",
                "internalName": "Navegación por el Canal Beagle",
                "reference": "BEAGLE",
                "title": "Navegación por el Canal Beagle",
                "shortDescription": (
                    "Faro Les Eclaireurs, Isla de los Lobos e Isla de Pájaros en catamarán."
                ),
                "description": (
                    "Zarpamos del muelle turístico de Ushuaia hacia el faro Les Eclaireurs. "
                    "Catamarán con cabina calefaccionada."
                ),
                "durationMinutes": 150,
                "meetingPoint": {
                    "title": "Muelle Turístico de Ushuaia",
                    "shortDescription": "Av. Maipú y Lasserre",
                    "latitude": -54.8069,
                    "longitude": -68.3035,
                    "streetAddress": "Av. Maipú y Lasserre",
                    "locality": "Ushuaia",
                    "country": "AR",
                },
                "units": [
                    {
                        "id": "adulto",
                        "type": "ADULT",
                        "internalName": "Adulto",
                        "retail": 8_500_000,
                    },
                    {
                        "id": "menor",
                        "type": "CHILD",
                        "internalName": "Menor (3 a 11 años)",
                        "retail": 4_250_000,
                        "minAge": 3,
                        "maxAge": 11,
                    },
                    {
                        "id": "jubilado",
                        "type": "SENIOR",
                        "internalName": "Jubilado",
                        "retail": 6_800_000,
                        "minAge": 60,
                    },
                ],
                "schedule": schedule(["10:00", "15:00"], 40),
            },
            {
                "id": "PNL-MARTIAL-TREK",
                "internalName": "Trekking al Glaciar Martial",
                "reference": "MARTIAL",
                "shortDescription": "Caminata guiada de dificultad media con vistas a la bahía.",
                "durationMinutes": 300,
                "maxUnits": 8,
                "units": [
                    {
                        "id": "adulto",
                        "type": "ADULT",
                        "internalName": "Adulto",
                        "retail": 6_000_000,
                        "maxQuantity": 8,
                    },
                    {
                        "id": "menor",
                        "type": "CHILD",
                        "internalName": "Menor (8 a 11 años)",
                        "retail": 3_000_000,
                        "minAge": 8,
                        "maxAge": 11,
                        "maxQuantity": 4,
                    },
                ],
                "schedule": schedule(["09:00"], 8),
            },
            {
                "id": "PNL-MARTILLO-PENG",
                "internalName": "Pingüinera de Isla Martillo",
                "reference": "MARTILLO",
                "shortDescription": "Navegación y caminata entre pingüinos de Magallanes y papúa.",
                "durationMinutes": 420,
                "bookingCutoffMinutes": 720,
                "units": [
                    {
                        "id": "adulto",
                        "type": "ADULT",
                        "internalName": "Adulto",
                        "retail": 14_000_000,
                    },
                    {
                        "id": "menor",
                        "type": "CHILD",
                        "internalName": "Menor (3 a 11 años)",
                        "retail": 7_000_000,
                        "minAge": 3,
                        "maxAge": 11,
                    },
                ],
                "schedule": schedule(["08:30"], 20, weekdays=[1, 2, 3, 4, 5, 6]),
            },
        ],
        "bookings": [
            {
                "productId": "PNL-BEAGLE-CAT",
                "availabilityId": _start(tomorrow, "10:00"),
                "units": {"adulto": 2, "menor": 1},
                "contact": {"fullName": "Familia Pereyra", "emailAddress": "pereyra@example.com"},
                "notes": "Vendido en el mostrador del muelle",
            },
            {
                "productId": "PNL-BEAGLE-CAT",
                "availabilityId": _start(tomorrow, "15:00"),
                "units": {"adulto": 4},
                "resellerReference": "HOTEL-ALBATROS-1187",
                "contact": {"fullName": "Hotel Albatros (conserjería)"},
            },
            {
                "productId": "PNL-MARTIAL-TREK",
                "availabilityId": _start(tomorrow, "09:00"),
                "units": {"adulto": 2},
                "contact": {"fullName": "Lucía Fernández", "emailAddress": "lucia@example.com"},
            },
            {
                "productId": "PNL-MARTILLO-PENG",
                "availabilityId": _start(penguin_day, "08:30"),
                "units": {"adulto": 3, "menor": 2},
                "resellerReference": "AGENCIA-CANAL-552",
                "contact": {"fullName": "Agencia Canal Fueguino"},
            },
        ],
    }
