"""The demo's own photos, drawn with Pillow: the same pixels on every run (fixed seeds), nothing
downloaded. Stylised Patagonia: the Beagle Channel's lighthouse and a catamaran, sea lions at
sunset, the Martial glacier above the forest, and penguins on Isla Martillo."""

import io
import random
from collections.abc import Callable

from PIL import Image, ImageDraw

SIZE = (1600, 1067)
WIDTH, HEIGHT = SIZE
Colour = tuple[int, int, int]


def _gradient(draw: ImageDraw.ImageDraw, top: Colour, bottom: Colour, y0: int, y1: int) -> None:
    for y in range(y0, y1):
        t = (y - y0) / max(1, y1 - y0 - 1)
        draw.line(
            [(0, y), (WIDTH, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )


def _canvas(
    seed: int, sky_top: Colour, sky_bottom: Colour, horizon: int
) -> tuple[Image.Image, ImageDraw.ImageDraw, random.Random]:
    """A blank picture with its sky drawn down to `horizon`, and the random numbers (from a
    fixed seed) that place the rest."""
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    _gradient(draw, sky_top, sky_bottom, 0, horizon)
    return image, draw, random.Random(seed)


def _mountains(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    base: int,
    height: int,
    colour: Colour,
    snow: Colour | None = None,
) -> None:
    """A ridge of peaks standing on `base`, with snow on the higher ones."""
    x, points, peaks = -100, [(-100, base)], []
    while x < WIDTH + 100:
        x += rng.randint(120, 260)
        top = base - rng.randint(height // 3, height)
        points.append((x, top))
        peaks.append((x, top))
        x += rng.randint(80, 200)
        points.append((x, base - rng.randint(0, height // 4)))
    points.append((WIDTH + 100, base))
    draw.polygon(points, fill=colour)
    if snow:
        for px, py in peaks:
            if base - py > height * 0.6:
                cap = (base - py) // 4
                draw.polygon([(px, py), (px - cap, py + cap), (px + cap, py + cap)], fill=snow)


def _water(draw: ImageDraw.ImageDraw, rng: random.Random, top: int, deep: Colour) -> None:
    _gradient(draw, tuple(min(255, c + 40) for c in deep), deep, top, HEIGHT)
    for _ in range(140):
        y = rng.randint(top + 5, HEIGHT - 5)
        x = rng.randint(0, WIDTH)
        length = 10 + (y - top) // 6
        draw.line([(x, y), (x + length, y)], fill=tuple(min(255, c + 60) for c in deep), width=2)


def lighthouse() -> Image.Image:
    image, draw, rng = _canvas(1, (110, 160, 210), (220, 232, 240), 640)
    _mountains(draw, rng, 640, 330, (96, 112, 138), snow=(240, 244, 248))
    _mountains(draw, rng, 660, 150, (60, 78, 96))
    _water(draw, rng, 640, (22, 58, 96))
    draw.ellipse([980, 700, 1340, 800], fill=(58, 46, 40))  # Les Eclaireurs' rock
    for index, y in enumerate(range(470, 730, 40)):  # red and white bands
        draw.rectangle(
            [1130, y, 1190, y + 40], fill=(200, 40, 40) if index % 2 else (245, 245, 240)
        )
    draw.rectangle([1120, 440, 1200, 472], fill=(40, 40, 40))
    draw.polygon([(1116, 440), (1160, 405), (1204, 440)], fill=(200, 40, 40))
    draw.polygon([(260, 820), (700, 820), (660, 880), (300, 880)], fill=(250, 250, 250))  # hull
    draw.rectangle([360, 770, 600, 822], fill=(235, 238, 242))
    for x in range(380, 590, 40):
        draw.rectangle([x, 785, x + 24, 805], fill=(40, 70, 110))
    draw.line([(700, 880), (1000, 900)], fill=(200, 220, 235), width=4)
    return image


def sea_lions() -> Image.Image:
    image, draw, rng = _canvas(2, (70, 60, 120), (250, 160, 90), 600)
    draw.ellipse([700, 420, 900, 620], fill=(255, 214, 140))  # the sun going down
    _mountains(draw, rng, 600, 260, (58, 44, 80))
    _water(draw, rng, 600, (60, 50, 90))
    draw.polygon(
        [(150, 1067), (300, 800), (700, 760), (1100, 800), (1400, 1067)], fill=(48, 40, 44)
    )
    for x, y, size in [(380, 800, 140), (620, 770, 170), (880, 790, 150), (1050, 840, 120)]:
        draw.ellipse([x, y, x + size, y + size // 2], fill=(120, 84, 56))
        draw.ellipse([x + size - 30, y - 30, x + size + 20, y + 20], fill=(132, 94, 62))
    return image


def glacier() -> Image.Image:
    image, draw, rng = _canvas(3, (80, 140, 210), (200, 225, 245), 700)
    _mountains(draw, rng, 700, 520, (110, 110, 120), snow=(250, 252, 255))
    draw.polygon([(300, 700), (760, 200), (1220, 700)], fill=(126, 124, 134))  # Monte Martial
    draw.polygon([(600, 330), (760, 300), (900, 360), (960, 560), (520, 560)], fill=(200, 228, 245))
    draw.polygon([(650, 380), (800, 350), (880, 420), (900, 540), (580, 540)], fill=(160, 205, 235))
    draw.rectangle([0, 700, WIDTH, HEIGHT], fill=(46, 92, 52))
    for _ in range(90):  # lenga trees
        x, y = rng.randint(-40, WIDTH), rng.randint(640, HEIGHT)
        size = 30 + (y - 640) // 5
        shade = rng.randint(30, 70)
        draw.polygon(
            [(x, y - 2 * size), (x - size // 2, y), (x + size // 2, y)],
            fill=(shade, 90 + shade, 50),
        )
    draw.line([(760, 1067), (800, 900), (700, 800), (760, 700)], fill=(180, 160, 120), width=14)
    return image


def penguins() -> Image.Image:
    image, draw, rng = _canvas(4, (150, 190, 225), (230, 238, 244), 520)
    _mountains(draw, rng, 520, 160, (120, 136, 150))
    _water(draw, rng, 520, (40, 90, 120))
    draw.polygon([(0, 700), (WIDTH, 620), (WIDTH, HEIGHT), (0, HEIGHT)], fill=(196, 184, 160))
    for _ in range(60):  # pebbles
        x, y = rng.randint(0, WIDTH), rng.randint(700, HEIGHT)
        draw.ellipse([x, y, x + 14, y + 9], fill=(160, 150, 130))
    spots = [(180, 760, 1.0), (420, 700, 0.8), (640, 800, 1.3), (900, 720, 0.9), (1150, 780, 1.1)]
    for x, y, scale in spots:
        _penguin(draw, x, y, scale)
    return image


def _penguin(draw: ImageDraw.ImageDraw, x: int, y: int, scale: float) -> None:
    def s(value: float) -> int:
        return round(value * scale)

    draw.ellipse([x, y, x + s(110), y + s(230)], fill=(24, 24, 28))  # back
    draw.ellipse([x + s(22), y + s(50), x + s(92), y + s(220)], fill=(245, 245, 240))  # belly
    draw.ellipse([x + s(20), y - s(60), x + s(90), y + s(10)], fill=(24, 24, 28))  # head
    draw.arc(
        [x + s(24), y - s(50), x + s(86), y + s(20)], 200, 340, fill=(245, 245, 240), width=s(6)
    )
    draw.polygon(
        [(x + s(84), y - s(30)), (x + s(120), y - s(20)), (x + s(84), y - s(14))],
        fill=(240, 130, 40),
    )
    draw.ellipse([x + s(62), y - s(38), x + s(72), y - s(28)], fill=(250, 250, 250))
    draw.ellipse([x + s(10), y + s(220), x + s(50), y + s(236)], fill=(240, 130, 40))
    draw.ellipse([x + s(60), y + s(220), x + s(100), y + s(236)], fill=(240, 130, 40))


# Each demo activity's gallery, in order (the first is the cover), with its description.
DEMO_GALLERIES: dict[str, list[tuple[Callable[[], Image.Image], str]]] = {
    "beagle-channel": [
        (lighthouse, "Faro Les Eclaireurs y un catamarán en el Canal Beagle"),
        (sea_lions, "Lobos marinos sobre una roca al atardecer"),
    ],
    "glaciar-martial": [(glacier, "Glaciar Martial sobre el bosque de lengas")],
    "pinguinera": [(penguins, "Pingüinos de Magallanes en la costa de Isla Martillo")],
}


def jpeg(draw: Callable[[], Image.Image]) -> bytes:
    output = io.BytesIO()
    draw().save(output, "JPEG", quality=90)
    return output.getvalue()
