"""Article pictures are served as AVIF and WebP <source>s over a JPEG/PNG <img>, made once."""

from unittest import mock

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image, features
from wagtail.images import get_image_model
from wagtail.rich_text import RichText

from masthead.images.renditions import (
    ARTICLE_RENDITIONS,
    AVATAR,
    BODY_PICTURE,
    CARD_RENDITIONS,
)
from masthead.news.tests.factories import NewsImageFactory, publish_article, section

pytestmark = pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")

BIG = {"file__width": 1600, "file__height": 1000, "description": "The new bridge at dusk"}


@pytest.fixture(autouse=True)
def render_every_time(settings):
    """Turn off the full-page cache: these tests look at what rendering a page makes."""
    settings.MASTHEAD_PAGE_CACHE = False


def article_with_pictures():
    """Return a published article with a lead picture and one picture in its body."""
    article = publish_article(title="Bridge opens", featured_image=NewsImageFactory(**BIG))
    body_image = NewsImageFactory(file__width=900, file__height=1200, description="The mayor")
    article.body = [
        ("paragraph", RichText("<p>The bridge opened on Monday.</p>")),
        ("image", {"image": body_image, "alt": "The mayor cuts the ribbon", "caption": ""}),
    ]
    article.save_revision().publish()
    return article


def soup_of(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def srcset_widths(srcset: str) -> list[int]:
    return [int(candidate.split()[1].rstrip("w")) for candidate in srcset.split(", ")]


def rendition_format(url: str, media_root) -> str:
    path = media_root / url.removeprefix("/media/")
    with Image.open(path) as image:
        return image.format


@pytest.mark.django_db
def test_lead_picture_has_avif_and_webp_sources_and_a_jpeg_img(client, _media_root):
    article = article_with_pictures()
    picture = soup_of(client, article.url).select_one(".article__figure picture")
    assert picture is not None

    sources = picture.find_all("source")
    assert [s["type"] for s in sources] == ["image/avif", "image/webp"]
    for source in sources:
        assert srcset_widths(source["srcset"]) == [800, 1280]
        assert (source["width"], source["height"]) == ("1280", "720")
        assert source["sizes"]
    img = picture.find("img")
    assert srcset_widths(img["srcset"]) == [800, 1280]
    assert (img["width"], img["height"]) == ("1280", "720")
    assert img["alt"] == "The new bridge at dusk"
    assert img["fetchpriority"] == "high"

    avif_url = sources[0]["srcset"].split()[0]
    webp_url = sources[1]["srcset"].split()[0]
    assert rendition_format(avif_url, _media_root) == "AVIF"
    assert rendition_format(webp_url, _media_root) == "WEBP"
    assert rendition_format(img["src"], _media_root) == "JPEG"


@pytest.mark.django_db
def test_body_picture_keeps_its_shape_and_loads_lazily(client):
    article = article_with_pictures()
    picture = soup_of(client, article.url).select_one(".body-image picture")
    assert picture is not None
    assert [s["type"] for s in picture.find_all("source")] == ["image/avif", "image/webp"]
    img = picture.find("img")
    assert srcset_widths(img["srcset"]) == [640, 900]  # a 900px original is not enlarged
    assert (img["width"], img["height"]) == ("900", "1200")
    assert img["alt"] == "The mayor cuts the ribbon"
    assert img["loading"] == "lazy"
    for source in picture.find_all("source"):
        assert (source["width"], source["height"]) == ("900", "1200")


@pytest.mark.django_db
def test_a_small_original_lists_each_width_once(client):
    article = publish_article(featured_image=NewsImageFactory(file__width=600, file__height=400))
    picture = soup_of(client, article.url).select_one(".article__figure picture")
    for srcset in [s["srcset"] for s in picture.find_all("source")] + [picture.img["srcset"]]:
        assert srcset_widths(srcset) == [600], srcset


@pytest.mark.django_db
def test_front_page_cards_are_pictures_too(client):
    publish_article(section_page=section("City"), featured_image=NewsImageFactory(**BIG))
    picture = soup_of(client, "/").select_one(".card__image picture")
    assert picture is not None
    assert [s["type"] for s in picture.find_all("source")] == ["image/avif", "image/webp"]
    assert srcset_widths(picture.img["srcset"]) == [320, 640]
    assert picture.img["alt"] == ""


@pytest.mark.django_db
def test_renditions_are_made_once_and_reused_on_the_next_render(client):
    article = article_with_pictures()
    Rendition = get_image_model().get_rendition_model()
    soup_of(client, article.url)
    made = set(Rendition.objects.values_list("pk", "filter_spec"))
    specs = {spec for _, spec in made}
    assert set(ARTICLE_RENDITIONS) <= specs
    assert set(BODY_PICTURE.specs) <= specs

    with (
        mock.patch.object(
            get_image_model(), "generate_rendition_file", side_effect=AssertionError("remade")
        ) as generate,
        CaptureQueriesContext(connection) as queries,
    ):
        soup_of(client, article.url)
    assert generate.call_count == 0
    assert set(Rendition.objects.values_list("pk", "filter_spec")) == made
    writes = [q["sql"] for q in queries if "rendition" in q["sql"].lower()]
    assert not [sql for sql in writes if not sql.lstrip().upper().startswith("SELECT")], writes


def test_card_prefetch_covers_every_card_rendition():
    """The card queryset prefetches what the card template draws (else: a query per card)."""
    from masthead.images.renditions import CARD_LEAD_PICTURE, CARD_PICTURE

    assert set(CARD_PICTURE.specs) | set(CARD_LEAD_PICTURE.specs) <= set(CARD_RENDITIONS)


@pytest.mark.django_db
def test_a_second_render_writes_no_rendition_to_the_cache(client):
    """Wagtail writes every rendition it hands out back to its cache; the pictures do not."""
    article = article_with_pictures()
    soup_of(client, article.url)  # makes (and caches) the renditions
    backend = get_image_model().get_rendition_model().cache_backend
    with (
        mock.patch.object(type(backend), "set", autospec=True) as set_one,
        mock.patch.object(type(backend), "set_many", autospec=True) as set_many,
    ):
        soup_of(client, article.url)
    written = [c.args[1] for c in set_one.call_args_list] + [
        key for c in set_many.call_args_list for key in c.args[1]
    ]
    picture_specs = set(ARTICLE_RENDITIONS) | set(BODY_PICTURE.specs) | {AVATAR}  # byline too
    assert not [key for key in written if any(key.endswith(spec) for spec in picture_specs)]


@pytest.mark.django_db
def test_byline_and_author_page_pictures_are_webp_renditions(client):
    article = article_with_pictures()
    img = soup_of(client, article.url).select_one("img.byline__picture")
    assert img["src"].endswith(".webp") and img["width"] == "96" and img["height"] == "96"
    assert img["loading"] == "lazy" and img.has_attr("alt")
    author = article.article_authors.first().author
    header = soup_of(client, f"/authors/{author.slug}/").select_one("img.author-header__picture")
    assert header["src"].endswith(".webp") and header["width"] == header["height"]  # a square crop
