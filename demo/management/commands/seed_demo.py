"""The demo operator of `make demo` and the browser tests: three activities with rates,
departures for the next 60 days and photos (drawn by demo.pictures, kept in moto's S3), their
texts in Spanish, Portuguese and English (each operator shows them in the traveller's language,
else its own). Safe to run again: it only adds what is missing, and brings the activities'
texts up to date."""

from datetime import time, timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import tenant_context

from booking.catalogue import RateSpec, activity_upsert, slots_create_recurring
from booking.models import Activity, PassengerData
from demo.gallery import demo_galleries_seed, photo_bucket_ensure
from emulators.oidc import DEMO_STAFF
from tenants.actors import Actor
from tenants.models import Domain
from tenants.services import membership_grant, operator_create

DEMO_DOMAIN = "demo.localhost"
EVERY_DAY = {0, 1, 2, 3, 4, 5, 6}
SEED = Actor.system("demo seed")
ADULT = {"es": "Adulto", "pt-br": "Adulto", "en": "Adult"}
CHILD_3_11 = {"es": "Menor (3 a 11 años)", "pt-br": "Criança (3 a 11 anos)", "en": "Child (3-11)"}


def demo_catalogue(currency: str, price_divisor: int = 1) -> None:
    """Prices are set in ARS; another currency divides them (BRL: by 200)."""

    def price(amount: int) -> int:
        return amount // price_divisor

    beagle = activity_upsert(
        actor=SEED,
        slug="beagle-channel",
        name={
            "es": "Navegación por el Canal Beagle",
            "pt-br": "Navegação pelo Canal de Beagle",
            "en": "Beagle Channel boat trip",
        },
        summary={
            "es": "Faro Les Eclaireurs, Isla de los Lobos e Isla de Pájaros en catamarán.",
            "pt-br": "Farol Les Eclaireurs, Ilha dos Lobos e Ilha dos Pássaros de catamarã.",
            "en": "Les Eclaireurs lighthouse, Sea Lion Island and Bird Island by catamaran.",
        },
        description={
            "es": (
                "Zarpamos del muelle turístico de Ushuaia hacia el faro Les Eclaireurs, pasando "
                "por la Isla de los Lobos y la Isla de Pájaros. Catamarán con cabina "
                "calefaccionada.\nLlegá 30 minutos antes de la salida."
            ),
            "pt-br": (
                "Saímos do píer turístico de Ushuaia rumo ao farol Les Eclaireurs, passando pela "
                "Ilha dos Lobos e pela Ilha dos Pássaros. Catamarã com cabine aquecida.\n"
                "Chegue 30 minutos antes da saída."
            ),
            "en": (
                "We sail from Ushuaia's tourist pier to Les Eclaireurs lighthouse, past Sea Lion "
                "Island and Bird Island. Catamaran with a heated cabin.\n"
                "Please arrive 30 minutes before departure."
            ),
        },
        duration=timedelta(hours=2, minutes=30),
        meeting_point={
            "es": "Muelle Turístico de Ushuaia, Av. Maipú y Lasserre",
            "pt-br": "Píer Turístico de Ushuaia, Av. Maipú esquina Lasserre",
            "en": "Ushuaia Tourist Pier, Av. Maipú and Lasserre",
        },
        currency=currency,
        rates=[
            RateSpec("adult", ADULT, price(8_500_000)),
            RateSpec("child", CHILD_3_11, price(4_250_000)),
            RateSpec(
                "senior",
                {"es": "Jubilado", "pt-br": "Aposentado", "en": "Senior"},
                price(6_800_000),
            ),
        ],
        position=1,
        # A boat in Argentina sails with the coast guard's list of who is on board.
        passenger_data=PassengerData.DOCUMENT,
    )
    glacier = activity_upsert(
        actor=SEED,
        slug="glaciar-martial",
        name={
            "es": "Trekking al Glaciar Martial",
            "pt-br": "Trekking à Geleira Martial",
            "en": "Martial Glacier trek",
        },
        summary={
            "es": "Caminata guiada de dificultad media con vistas a la bahía de Ushuaia.",
            "pt-br": "Caminhada guiada de dificuldade média com vista para a baía de Ushuaia.",
            "en": "A guided hike of medium difficulty with views over Ushuaia bay.",
        },
        description={
            "es": "Grupo reducido con guía de montaña. Incluye bastones y snack de altura.",
            "pt-br": "Grupo reduzido com guia de montanha. Inclui bastões e lanche de trilha.",
            "en": "Small group with a mountain guide. Poles and a trail snack included.",
        },
        duration=timedelta(hours=5),
        meeting_point={
            "es": "Base del Glaciar Martial, Camino Luis Martial km 7",
            "pt-br": "Base da Geleira Martial, Camino Luis Martial km 7",
            "en": "Martial Glacier base, Camino Luis Martial km 7",
        },
        currency=currency,
        rates=[
            RateSpec("adult", ADULT, price(6_000_000), min_per_booking=1, max_per_booking=8),
            RateSpec(
                "child",
                {
                    "es": "Menor (8 a 11 años)",
                    "pt-br": "Criança (8 a 11 anos)",
                    "en": "Child (8-11)",
                },
                price(3_000_000),
                max_per_booking=4,
            ),
        ],
        position=2,
    )
    penguins = activity_upsert(
        actor=SEED,
        slug="pinguinera",
        name={
            "es": "Pingüinera de Isla Martillo",
            "pt-br": "Pinguinera da Ilha Martillo",
            "en": "Martillo Island penguin colony",
        },
        summary={
            "es": "Navegación y caminata entre pingüinos de Magallanes y papúa.",
            "pt-br": "Navegação e caminhada entre pinguins-de-magalhães e pinguins-gentoo.",
            "en": "A boat trip and a walk among Magellanic and gentoo penguins.",
        },
        description={
            "es": "Salida en bus hasta Estancia Harberton y navegación a Isla Martillo.",
            "pt-br": "Saída de ônibus até a Estancia Harberton e navegação até a Ilha Martillo.",
            "en": "By bus to Estancia Harberton, then by boat to Martillo Island.",
        },
        duration=timedelta(hours=7),
        meeting_point={
            "es": "Oficina central, San Martín 1234, Ushuaia",
            "pt-br": "Escritório central, San Martín 1234, Ushuaia",
            "en": "Main office, San Martín 1234, Ushuaia",
        },
        currency=currency,
        rates=[
            RateSpec("adult", ADULT, price(14_000_000)),
            RateSpec("child", CHILD_3_11, price(7_000_000)),
        ],
        booking_cutoff=timedelta(hours=12),
        position=3,
        passenger_data=PassengerData.DOCUMENT_BIRTH,
    )
    # Cancellation policies, set once (staff change them in the backoffice afterwards): the
    # boat trips free until 24 hours before, then half back; the trek free until 48 hours.
    for activity, hours, percent in [(beagle, 24, 50), (glacier, 48, 0), (penguins, 24, 50)]:
        Activity.objects.filter(pk=activity.pk, free_cancellation_hours__isnull=True).update(
            free_cancellation_hours=hours, late_refund_percent=percent
        )
    today = timezone.localdate()
    last = today + timedelta(days=60)
    slots_create_recurring(
        actor=SEED,
        activity=beagle,
        first_day=today,
        last_day=last,
        weekdays=EVERY_DAY,
        times=[time(10, 0), time(15, 0)],
        capacity=40,
    )
    slots_create_recurring(
        actor=SEED,
        activity=glacier,
        first_day=today,
        last_day=last,
        weekdays=EVERY_DAY,
        times=[time(9, 0)],
        capacity=8,
    )
    slots_create_recurring(
        actor=SEED,
        activity=penguins,
        first_day=today,
        last_day=last,
        weekdays={1, 2, 3, 4, 5, 6},
        times=[time(8, 30)],
        capacity=20,
    )


DEMO_OPERATORS = [
    {
        "schema_name": "demo",
        "domain": DEMO_DOMAIN,
        "name": "Patagonia Demo Tours",
        "default_currency": "ARS",
        "locale": "es",
        "accent_colour": "#0e7490",
        "contact_email": "hola@patagonia-demo-tours.example",
        "contact_phone": "+54 9 2901 555-0100",
        "price_divisor": 1,
    },
    {
        "schema_name": "demo_br",
        "domain": "demo-br.localhost",
        "name": "Patagonia Demo Brasil",
        "default_currency": "BRL",
        "locale": "pt-br",
        "accent_colour": "#15803d",
        "contact_email": "ola@patagonia-demo-brasil.example",
        "contact_phone": "+55 48 3333-0100",
        "price_divisor": 200,
    },
]


class Command(BaseCommand):
    help = (
        "Create (or top up) the demo operators at demo.localhost (ARS) and demo-br.localhost (BRL)."
    )

    def handle(self, *args, **options):
        photo_bucket_ensure()
        for demo in DEMO_OPERATORS:
            domain = Domain.objects.select_related("tenant").filter(domain=demo["domain"]).first()
            operator = (
                domain.tenant
                if domain
                else operator_create(
                    actor=SEED,
                    schema_name=demo["schema_name"],
                    name=demo["name"],
                    domain=demo["domain"],
                    time_zone="America/Argentina/Ushuaia",
                    default_currency=demo["default_currency"],
                    locale=demo["locale"],
                    brand_name=demo["name"],
                    accent_colour=demo["accent_colour"],
                    contact_email=demo["contact_email"],
                )
            )
            # Seeded before operators had a contact: given the demo's (an owner's edit stays).
            unset = [
                name for name in ("contact_email", "contact_phone") if not getattr(operator, name)
            ]
            for name in unset:
                setattr(operator, name, demo[name])
            if unset:
                operator.save(update_fields=unset)
            with tenant_context(operator), timezone.override(operator.zone):
                demo_catalogue(operator.default_currency, demo["price_divisor"])
                demo_galleries_seed(actor=SEED)
            for account in DEMO_STAFF:
                if account.role:
                    membership_grant(
                        actor=SEED,
                        operator=operator,
                        sub=account.sub,
                        email=account.email,
                        role=account.role,
                        name=account.name,
                    )
            if options["verbosity"]:
                site = operator.domains.get(domain=demo["domain"]).site_url()
                self.stdout.write(f"Demo operator ready at {site}/")
