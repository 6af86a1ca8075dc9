"""A manager uploads a photo of an activity and makes it the cover; a traveller's browser then
loads it from the photo store (moto's S3) on the catalogue and on the activity's page."""

import io
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Locator, Page, expect

from e2e.test_backoffice import sign_in

pytestmark = pytest.mark.e2e

GLACIER = "Martial Glacier trek"  # the demo's English text
ALT = "A red sun over a blue lake (uploaded by the browser test)"


def drawn_png() -> bytes:
    image = Image.new("RGB", (1400, 900), (30, 80, 160))
    ImageDraw.Draw(image).ellipse([500, 200, 900, 600], fill=(220, 40, 40))
    output = io.BytesIO()
    image.save(output, "PNG")
    return output.getvalue()


def expect_loaded(image: Locator, store: str) -> None:
    """The browser fetched the picture from the store and decoded it."""
    expect(image).to_be_visible()
    image.page.wait_for_function(
        "image => image.complete && image.naturalWidth > 0", arg=image.element_handle()
    )
    assert image.evaluate("image => image.currentSrc").startswith(f"{store}/")


def test_a_manager_uploads_a_photo_that_travellers_then_see(
    page: Page, browser: Browser, base_url: str, aws: str
):
    sign_in(page, "demo-manager")
    page.get_by_role("link", name="Activities & prices").click()
    glacier = page.locator("section.panel").filter(
        has=page.get_by_role("heading", name=GLACIER, exact=True)
    )
    glacier.get_by_role("link", name=re.compile(r"\d+ photos?")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Photos of {GLACIER}")

    upload = page.locator("form").filter(has=page.get_by_role("button", name="Upload photo"))
    upload.get_by_label("Photo", exact=True).set_input_files(
        files=[{"name": "red-sun.png", "mimeType": "image/png", "buffer": drawn_png()}]
    )
    upload.get_by_label("Description").fill(ALT)
    upload.get_by_role("button", name="Upload photo").click()
    expect(page.get_by_text("Photo added.")).to_be_visible()

    uploaded = page.get_by_test_id("photo").filter(has=page.get_by_alt_text(ALT))
    expect_loaded(uploaded.get_by_role("img"), aws)
    uploaded.get_by_role("button", name="Make cover").click()
    expect(page.get_by_text("This photo is now the cover.")).to_be_visible()
    expect(page.get_by_test_id("photo").first.get_by_alt_text(ALT)).to_be_visible()
    expect(page.get_by_test_id("photo").first).to_contain_text("Cover")

    traveller = browser.new_context(base_url=base_url, locale="en-US").new_page()
    traveller.goto("/")
    card = traveller.get_by_role("listitem").filter(
        has=traveller.get_by_role("heading", name=GLACIER)
    )
    expect_loaded(card.get_by_alt_text(ALT), aws)
    card.get_by_role("link", name=GLACIER).click()
    expect(traveller.get_by_role("heading", level=1, name=GLACIER)).to_be_visible()
    cover = traveller.locator(".gallery-cover").get_by_role("img", name=ALT)
    expect_loaded(cover, aws)
    assert cover.get_attribute("loading") == "eager"
    assert re.fullmatch(
        r"\S+/480\.jpg 480w, \S+/960\.jpg 960w, \S+/1400\.jpg 1400w", cover.get_attribute("srcset")
    )
    traveller.context.close()
