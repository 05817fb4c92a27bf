"""Upload hygiene: real pictures only, no decompression bombs, upright, metadata stripped."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, PngImagePlugin

from masthead.images.models import NewsImage
from masthead.images.uploads import clean_image_bytes

EXIF_ORIENTATION = 0x0112
EXIF_GPS_IFD = 0x8825
EXIF_MAKE = 0x010F


def jpeg_rotated(width=40, height=20) -> bytes:
    """Return a JPEG stored sideways with EXIF orientation 6 (turn 90° clockwise) and a GPS tag."""
    image = Image.new("RGB", (width, height), "red")
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    exif[EXIF_MAKE] = "Spy Camera Co"
    exif.get_ifd(EXIF_GPS_IFD)[2] = (51.0, 30.0, 0.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_jpeg_is_turned_upright_and_loses_its_exif():
    data, fmt = clean_image_bytes(jpeg_rotated(40, 20))
    image = Image.open(io.BytesIO(data))
    assert fmt == "JPEG"
    assert image.size == (20, 40)
    exif = image.getexif()
    assert EXIF_ORIENTATION not in exif and EXIF_MAKE not in exif
    assert not exif.get_ifd(EXIF_GPS_IFD)
    assert b"Spy Camera Co" not in data


def test_png_text_chunks_are_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Source")
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 255, 128)).save(out, format="PNG", pnginfo=info)
    data, fmt = clean_image_bytes(out.getvalue())
    assert fmt == "PNG"
    assert b"Secret Source" not in data
    assert Image.open(io.BytesIO(data)).mode == "RGBA"


@pytest.mark.parametrize(
    "data",
    [b"<?php echo 'not a picture'; ?>", b"GIF89a" + b"\x00" * 10, jpeg_rotated()[:200]],
    ids=["script", "bare header", "truncated jpeg"],
)
def test_files_that_are_not_whole_pictures_are_refused(data):
    with pytest.raises(ValidationError):
        clean_image_bytes(data)


def test_decompression_bomb_is_refused_before_decoding(settings):
    settings.WAGTAILIMAGES_MAX_IMAGE_PIXELS = 1_000_000
    out = io.BytesIO()
    Image.new("1", (2000, 2000)).save(out, format="PNG")  # tiny file, 4 million pixels
    assert len(out.getvalue()) < 10_000
    with pytest.raises(ValidationError) as error:
        clean_image_bytes(out.getvalue())
    assert error.value.code in ("too_many_pixels", "bomb")


def test_other_formats_are_refused():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="BMP")
    with pytest.raises(ValidationError) as error:
        clean_image_bytes(out.getvalue())
    assert error.value.code == "format"


@pytest.mark.django_db
def test_newsroom_upload_stores_the_cleaned_picture(client):
    User.objects.create_superuser("admin", "admin@example.com", "pw-for-tests-123")
    assert client.login(username="admin", password="pw-for-tests-123")
    upload = SimpleUploadedFile("sideways.jpg", jpeg_rotated(40, 20), content_type="image/jpeg")
    response = client.post(
        "/newsroom/images/add/",
        {"title": "Sideways", "file": upload, "description": "A red square", "collection": 1},
    )
    assert response.status_code == 302, response.content[:2000]
    image = NewsImage.objects.get(title="Sideways")
    assert (image.width, image.height) == (20, 40)
    with image.open_file() as f:
        stored = f.read()
    assert b"Spy Camera Co" not in stored


@pytest.mark.django_db
def test_newsroom_refuses_a_fake_picture(client):
    User.objects.create_superuser("admin", "admin@example.com", "pw-for-tests-123")
    assert client.login(username="admin", password="pw-for-tests-123")
    upload = SimpleUploadedFile("fake.jpg", b"not really a jpeg" * 20, content_type="image/jpeg")
    response = client.post(
        "/newsroom/images/add/", {"title": "Fake", "file": upload, "collection": 1}
    )
    assert response.status_code == 200
    assert not NewsImage.objects.filter(title="Fake").exists()
