"""Pictures staff upload, checked and resized with Pillow before anything is stored.

An upload is refused, with a message in the staff's language, unless it is a JPEG, PNG or
WebP that Pillow can read whole, of at most MAX_UPLOAD_BYTES and MAX_PIXELS: the pixel count
is read from the header, before a single pixel is decoded, so a small file that claims to be
huge (a decompression bomb) costs nothing.

Renditions are JPEG only, RENDITION_WIDTHS wide at most (never wider than the original): every
browser shows JPEG, so one file per width and a plain `<img srcset>` serve everyone; WebP
would save about a quarter of the bytes at the cost of a second file per width, `<picture>`
markup and twice the encoding in the upload's request. They are turned upright by their EXIF
orientation and written without any metadata: no GPS position, camera or owner leaves with a
rendition (the original, which keeps them, stays private).
"""

import io
import warnings
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from booking.errors import BookingError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel camera's photo; decoded, about 120 MB of RGB
RENDITION_WIDTHS = (480, 960, 1600)
ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
JPEG_QUALITY = 82
BACKGROUND = (255, 255, 255)  # behind transparent pixels, which JPEG cannot keep


class ImageRefused(BookingError):
    """An upload that is not a picture we take; `message` is in the staff's language."""


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    content: bytes


@dataclass(frozen=True)
class PreparedPhoto:
    """A checked upload: the original as sent, and its renditions, widest last."""

    original: bytes
    extension: str
    renditions: tuple[Rendition, ...]

    @property
    def width(self) -> int:
        return self.renditions[-1].width

    @property
    def height(self) -> int:
        return self.renditions[-1].height


def rendition_widths(width: int) -> list[int]:
    """The widths made of a picture `width` pixels wide: each of RENDITION_WIDTHS below it,
    and the picture's own width up to the largest (never enlarged)."""
    largest = min(width, RENDITION_WIDTHS[-1])
    return [w for w in RENDITION_WIDTHS if w < largest] + [largest]


def prepare_photo(upload: UploadedFile) -> PreparedPhoto:
    """Check an upload and make its renditions. Raises ImageRefused."""
    if not upload.size:
        raise ImageRefused(_("The file is empty."))
    if upload.size > MAX_UPLOAD_BYTES:
        raise ImageRefused(
            _("The file is %(size)s MB; photos of up to %(limit)d MB are taken.")
            % {"size": f"{upload.size / 2**20:.1f}", "limit": MAX_UPLOAD_BYTES // 2**20}
        )
    upload.seek(0)
    original = upload.read(MAX_UPLOAD_BYTES + 1)
    extension = _checked_format(original)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(original))
            image.load()
            renditions = _renditions(image)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombWarning) as exc:
        raise _unreadable() from exc
    return PreparedPhoto(original=original, extension=extension, renditions=renditions)


def _unreadable() -> ImageRefused:
    return ImageRefused(_("This file is not a photo we can read. Send a JPEG, PNG or WebP image."))


def _checked_format(data: bytes) -> str:
    """The file's extension, from what Pillow finds in it (not from its name), once its header
    and size are acceptable and `verify()` found its data whole."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if image.format not in ACCEPTED_FORMATS:
                raise _unreadable()
            if width * height > MAX_PIXELS:
                raise _too_many_pixels()
            image.verify()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc  # far over the limit: Pillow itself refused it
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise _unreadable() from exc
    return ACCEPTED_FORMATS[image.format]


def _too_many_pixels() -> ImageRefused:
    return ImageRefused(
        _("The photo has more than %(megapixels)d megapixels. Send a smaller one.")
        % {"megapixels": MAX_PIXELS // 10**6}
    )


def _renditions(image: Image.Image) -> tuple[Rendition, ...]:
    upright = ImageOps.exif_transpose(image)
    flat = _rgb(upright)
    made: list[Rendition] = []
    source = flat
    for width in reversed(rendition_widths(flat.width)):
        height = max(1, round(flat.height * width / flat.width))
        # Each from the one above it: cheaper than from the original, and as sharp.
        source = source if source.width == width else source.resize((width, height), Image.LANCZOS)
        made.append(Rendition(width=width, height=height, content=_jpeg(source)))
    return tuple(reversed(made))


def _rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _jpeg(image: Image.Image) -> bytes:
    """Encoded without exif, icc_profile or comments: Pillow writes only what it is given."""
    output = io.BytesIO()
    image.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return output.getvalue()
