"""Upload hygiene for newsroom pictures: real images only, no bombs, upright, no metadata.

Wagtail's image field already refuses files Willow cannot identify, files over
``WAGTAILIMAGES_MAX_UPLOAD_SIZE`` and images over ``WAGTAILIMAGES_MAX_IMAGE_PIXELS``.
``clean_upload`` adds what a newsroom needs on top: Pillow must decode the whole file
(a truncated or disguised file fails), the decompression-bomb guard applies before decoding,
the EXIF orientation is applied to the pixels, and EXIF/XMP/text metadata (GPS positions,
camera serials, editing history) is dropped by re-encoding. The ICC colour profile is kept.
"""

import io
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageOps, UnidentifiedImageError, features

# Formats a newsroom uploads; anything else is refused even if Pillow could read it.
ALLOWED_FORMATS = {"JPEG", "PNG", "GIF", "WEBP", "AVIF"}
# Re-encoding quality for lossy formats: high, so a strip does not visibly cost quality.
LOSSY_QUALITY = 92
DEFAULT_MAX_PIXELS = 64_000_000
CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "AVIF": "image/avif",
}


def max_pixels() -> int:
    return getattr(settings, "WAGTAILIMAGES_MAX_IMAGE_PIXELS", None) or DEFAULT_MAX_PIXELS


def _open_checked(data: bytes) -> Image.Image:
    """Return the decoded image; raise ValidationError for a non-image, a bomb or a broken file."""
    limit = max_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > limit:
                raise ValidationError(
                    f"This picture is {image.width}×{image.height} pixels; the limit is "
                    f"{limit:,} pixels in all.",
                    code="too_many_pixels",
                )
            if image.format not in ALLOWED_FORMATS:
                raise ValidationError(
                    f"{image.format} pictures are not accepted; upload JPEG, PNG, GIF or WebP.",
                    code="format",
                )
            image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError("This file expands to too many pixels.", code="bomb") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(
            "This file is not a picture Masthead can read (or it is damaged).", code="invalid"
        ) from exc
    return image


def clean_image_bytes(data: bytes) -> tuple[bytes, str]:
    """Return (re-encoded bytes, Pillow format name): upright, metadata removed.

    Raises ValidationError for anything that is not a whole, allowed, reasonably sized picture.
    Animated GIF/WebP keep their frames and are returned as uploaded (they carry no EXIF).
    """
    image = _open_checked(data)
    fmt = image.format
    if getattr(image, "is_animated", False):
        return data, fmt
    icc_profile = image.info.get("icc_profile")
    upright = ImageOps.exif_transpose(image)
    options = {"icc_profile": icc_profile} if icc_profile else {}
    if fmt == "JPEG":
        if upright.mode not in ("RGB", "L", "CMYK"):
            upright = upright.convert("RGB")
        options.update(quality=LOSSY_QUALITY, optimize=True)
    elif fmt == "WEBP":
        lossless = image.info.get("lossless", False)
        options.update(lossless=lossless, quality=100 if lossless else LOSSY_QUALITY)
    elif fmt == "AVIF":
        if not features.check("avif"):
            return data, fmt
        options.update(quality=LOSSY_QUALITY)
    elif fmt == "GIF" and "transparency" in image.info:
        options.update(transparency=image.info["transparency"])
    # PNG: a plain save writes no text, EXIF or XMP chunks.
    out = io.BytesIO()
    upright.save(out, format=fmt, **options)
    return out.getvalue(), fmt


def clean_upload(uploaded):
    """Return a new uploaded file holding the cleaned picture, named as the upload was.

    Raises ValidationError as ``clean_image_bytes`` does.
    """
    uploaded.seek(0)
    data, fmt = clean_image_bytes(uploaded.read())
    return SimpleUploadedFile(uploaded.name, data, content_type=CONTENT_TYPES[fmt])
