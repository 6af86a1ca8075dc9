"""The operator's accent colour made readable: whatever colour an operator chooses, the text on
it and the accent used as text (links, quiet buttons) keep WCAG AA contrast (4.5:1)."""

from dataclasses import dataclass

BLACK = "#000000"
WHITE = "#ffffff"
# The lightest background the accent is written on as text (the page's --bg in app.css).
PAGE_BACKGROUND = "#f6f7f9"
READABLE = 4.5


def _channels(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _hex(channels: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{channel:02x}" for channel in channels)


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    linear = []
    for channel in _channels(colour):
        c = channel / 255
        linear.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = linear
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_on(background: str) -> str:
    """Black or white, whichever reads better on `background`."""
    return BLACK if contrast(background, BLACK) >= contrast(background, WHITE) else WHITE


def ink(colour: str, background: str = PAGE_BACKGROUND) -> str:
    """`colour` itself if it reads on `background`, else the same hue darkened (mixed with
    black in small steps) until it does."""
    red, green, blue = _channels(colour)
    shade = colour.lower()
    for step in range(21):
        keep = 1 - step / 20
        shade = _hex((round(red * keep), round(green * keep), round(blue * keep)))
        if contrast(shade, background) >= READABLE:
            break
    return shade


@dataclass(frozen=True)
class Accent:
    """The three colours base.html sets as CSS variables: --accent (backgrounds, borders),
    --on-accent (text on it) and --accent-ink (the accent as text on the page)."""

    base: str
    on: str
    ink: str

    @classmethod
    def of(cls, colour: str) -> "Accent":
        return cls(base=colour.lower(), on=text_on(colour), ink=ink(colour))
