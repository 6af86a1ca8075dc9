"""A manager adds an activity to the catalogue in Spanish, with a rate whose price is typed
the Spanish way, and travellers find it in the catalogue in English and in Spanish."""

import pytest
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.e2e


def test_a_manager_creates_an_activity_with_a_rate_and_travellers_see_it(
    browser: Browser, base_url: str
):
    manager = browser.new_context(base_url=base_url, locale="es-AR").new_page()
    manager.goto("/backoffice/")
    manager.get_by_label("Login").fill("demo-manager")
    manager.get_by_label("Password").fill("any password works here")
    manager.get_by_role("button", name="Sign in").click()
    expect(manager.get_by_test_id("signed-in-as")).to_contain_text("Gerente")

    manager.get_by_role("link", name="Actividades y precios").click()
    manager.get_by_role("link", name="Nueva actividad").click()
    manager.get_by_label("Nombre en español").fill("Kayak en Bahía Ensenada")
    manager.get_by_label("Resumen en español").fill("Remada guiada entre islotes.")
    manager.get_by_label("Punto de encuentro en español").fill("Bahía Ensenada, muelle")
    manager.get_by_label("Nombre en inglés").fill("Ensenada Bay kayak")
    manager.get_by_label("Resumen en inglés").fill("A guided paddle among islets.")
    manager.get_by_label("Duración (minutos)").fill("180")
    manager.get_by_label("Cancelación gratis hasta (horas antes de la salida)").fill("24")
    manager.get_by_label("Datos a pedir por pasajero").select_option("name")
    manager.get_by_role("button", name="Crear actividad").click()
    expect(
        manager.get_by_text("Kayak en Bahía Ensenada creada. Ahora agrega sus tarifas.")
    ).to_be_visible()

    new_rate = manager.get_by_test_id("new-rate")
    new_rate.get_by_label("Nombre en español").fill("Adulto")
    new_rate.get_by_label("Nombre en inglés").fill("Adult")
    new_rate.get_by_label("Precio (ARS)").fill("170.000,50")
    new_rate.get_by_role("button", name="Agregar tarifa").click()
    expect(manager.get_by_text("Tarifa agregada.")).to_be_visible()
    rate = manager.get_by_test_id("rate")
    expect(rate.get_by_role("heading")).to_contain_text("170.000,50")
    expect(rate.get_by_label("Precio (ARS)")).to_have_value("170.000,50")

    english = browser.new_context(base_url=base_url, locale="en-US").new_page()
    english.goto("/")
    card = english.get_by_role("listitem").filter(has_text="Ensenada Bay kayak")
    expect(card).to_contain_text("A guided paddle among islets.")
    expect(card).to_contain_text("170,000.50")
    card.get_by_role("link", name="Ensenada Bay kayak").click()
    expect(english.get_by_role("heading", level=1, name="Ensenada Bay kayak")).to_be_visible()
    expect(english.get_by_test_id("cancellation-policy")).to_contain_text(
        "Free cancellation until 24 hours before departure"
    )
    expect(english.get_by_text("Bahía Ensenada, muelle")).to_be_visible()  # Spanish only

    spanish = browser.new_context(base_url=base_url, locale="es-AR").new_page()
    spanish.goto("/")
    card = spanish.get_by_role("listitem").filter(has_text="Kayak en Bahía Ensenada")
    expect(card).to_contain_text("Remada guiada entre islotes.")
    expect(card).to_contain_text("170.000,50")
