"""Whatever accent colour an operator picks, the text on it and the accent written as text keep
WCAG AA contrast (4.5:1), and every page of its site sets the three colours."""

import pytest

from tenants.colours import BLACK, PAGE_BACKGROUND, WHITE, Accent, contrast, ink, text_on
from tenants.models import Operator
from tests.factories import ALPHA_HOST

# The demo's teal and green, the default, and colours operators pick that white text fails on.
ACCENTS = ["#0e7490", "#15803d", "#0f766e", "#facc15", "#ffffff", "#7dd3fc", "#ff5a5f", "#777777"]


def test_contrast_follows_wcag():
    assert contrast(BLACK, WHITE) == pytest.approx(21)
    assert contrast("#0f766e", WHITE) == pytest.approx(5.47, abs=0.01)
    assert contrast("#777777", WHITE) == contrast(WHITE, "#777777")


@pytest.mark.parametrize("accent", ACCENTS)
def test_text_on_the_accent_is_black_or_white_whichever_reads_better(accent):
    chosen = text_on(accent)
    other = WHITE if chosen == BLACK else BLACK
    assert contrast(accent, chosen) >= contrast(accent, other)
    assert contrast(accent, chosen) >= 4.5


def test_dark_accents_keep_white_text_and_light_ones_get_black():
    assert text_on("#0e7490") == WHITE
    assert text_on("#facc15") == BLACK
    assert text_on("#ffffff") == BLACK


@pytest.mark.parametrize("accent", ACCENTS)
def test_the_accent_as_text_reads_on_the_page(accent):
    assert contrast(ink(accent), PAGE_BACKGROUND) >= 4.5
    assert contrast(ink(accent), WHITE) >= 4.5


def test_a_readable_accent_is_written_as_it_is_and_a_light_one_darkened():
    assert ink("#0e7490") == "#0e7490"
    darker = ink("#facc15")
    assert darker != "#facc15"
    assert contrast(darker, PAGE_BACKGROUND) >= 4.5
    red, green, blue = (int(darker[i : i + 2], 16) for i in (1, 3, 5))
    assert red > green > blue  # still a yellow, darkened


def test_every_page_sets_the_accent_and_its_readable_text(alpha, alpha_client):
    Operator.objects.filter(pk=alpha.pk).update(accent_colour="#FACC15")
    body = alpha_client.get("/", HTTP_HOST=ALPHA_HOST).content.decode()
    accent = Accent.of("#FACC15")
    assert accent.on == BLACK
    assert f"--accent: #facc15; --on-accent: {BLACK}; --accent-ink: {accent.ink};" in body, body[
        :1500
    ]
