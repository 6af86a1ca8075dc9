"""Uploads checked and resized (booking.images): only real pictures within the limits, and
renditions that are upright, never enlarged and carry no metadata."""

import io
import struct
import zlib

import pytest
from django.utils import translation
from PIL import ExifTags, Image

from booking.images import MAX_UPLOAD_BYTES, ImageRefused, prepare_photo, rendition_widths
from tests.factories import picture, upload


def opened(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


def claimed_size_png(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header claims `width` × `height` pixels: the shape of a
    decompression bomb."""
    png = picture(4, 4, "PNG")
    ihdr = struct.pack(">II", width, height) + png[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return png[:16] + ihdr + crc + png[33:]


def test_renditions_are_made_at_each_width_up_to_the_largest():
    prepared = prepare_photo(upload(picture(4000, 3000)))

    assert [r.width for r in prepared.renditions] == [480, 960, 1600]
    assert [r.height for r in prepared.renditions] == [360, 720, 1200]
    assert (prepared.width, prepared.height) == (1600, 1200)
    for rendition in prepared.renditions:
        image = opened(rendition.content)
        assert (image.format, image.size) == ("JPEG", (rendition.width, rendition.height))
    assert prepared.extension == "jpg"


def test_a_small_photo_is_never_enlarged():
    assert rendition_widths(300) == [300]
    assert rendition_widths(1200) == [480, 960, 1200]
    assert rendition_widths(1600) == [480, 960, 1600]
    prepared = prepare_photo(upload(picture(300, 200, "PNG"), "small.png", "image/png"))
    assert [(r.width, r.height) for r in prepared.renditions] == [(300, 200)]
    assert prepared.extension == "png"


def test_renditions_are_upright_and_carry_no_gps_or_other_metadata():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # taken with the phone on its side
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.Base.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: (54.0, 48.0, 0.0),
    }
    original = picture(1200, 800, exif=exif)
    assert ExifTags.Base.GPSInfo in opened(original).getexif()

    prepared = prepare_photo(upload(original))

    assert prepared.original == original  # kept as it came, privately
    for rendition in prepared.renditions:
        image = opened(rendition.content)
        assert len(image.getexif()) == 0
        assert "icc_profile" not in image.info and "exif" not in image.info
    assert (prepared.width, prepared.height) == (800, 1200)  # turned upright


def test_transparency_is_flattened_on_white():
    image = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    output = io.BytesIO()
    image.save(output, "PNG")
    (rendition,) = prepare_photo(upload(output.getvalue(), "clear.png")).renditions
    assert opened(rendition.content).getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"just some text, named photo.jpg", "not a photo we can read"),
        (picture(800, 600)[:2000], "not a photo we can read"),  # cut short
        (picture(64, 64, "GIF"), "not a photo we can read"),  # not a format we take
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a photo we can read"),
        (claimed_size_png(50_000, 50_000), "more than 40 megapixels"),
        (claimed_size_png(8000, 5001), "more than 40 megapixels"),
    ],
    ids=["empty", "text", "truncated", "gif", "svg", "bomb", "over-40-megapixels"],
)
def test_what_is_not_a_photo_within_the_limits_is_refused(content, message):
    with pytest.raises(ImageRefused, match=message):
        prepare_photo(upload(content))


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    with pytest.raises(ImageRefused, match="photos of up to 10 MB are taken"):
        prepare_photo(upload(b"\xff" * (MAX_UPLOAD_BYTES + 1)))


def test_refusals_are_in_the_staff_members_language():
    with translation.override("es"), pytest.raises(ImageRefused) as refused:
        prepare_photo(upload(b"texto"))
    assert refused.value.message == (
        "Este archivo no es una foto que podamos leer. Envía una imagen JPEG, PNG o WebP."
    )
