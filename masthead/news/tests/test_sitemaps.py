"""Sitemaps and robots.txt: valid against the published schemas (kept in tests/xsd/)."""

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from lxml import etree

from masthead.news import sitemaps
from masthead.news.tests.factories import publish_article
from masthead.news.tests.syndication import ADVERSARIAL_HEADLINE, SITE_ROOT, build_edition

XSD_DIR = Path(__file__).parent / "xsd"
NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "image": "http://www.google.com/schemas/sitemap-image/1.1",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}


@pytest.fixture(scope="module")
def schemas():
    return {
        "index": etree.XMLSchema(etree.parse(str(XSD_DIR / "siteindex.xsd"))),
        "urlset": etree.XMLSchema(etree.parse(str(XSD_DIR / "urlset.xsd"))),
    }


@pytest.fixture
def edition(db):
    return build_edition()


def fetch(client, url: str) -> etree._Element:
    """GET a sitemap URL (absolute or a path) and return its parsed root."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    response = client.get(path)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith("application/xml")
    return etree.fromstring(response.content)


def assert_valid(schema, root) -> None:
    assert schema.validate(root), "\n".join(str(e) for e in schema.error_log)


def locations(root) -> list[str]:
    return root.xpath("//sm:url/sm:loc/text()", namespaces=NS)


def index_locations(client, schemas) -> list[str]:
    index = fetch(client, "/sitemap.xml")
    assert_valid(schemas["index"], index)
    return index.xpath("//sm:sitemap/sm:loc/text()", namespaces=NS)


def test_every_sitemap_in_the_index_validates_against_the_published_schemas(
    client, edition, schemas
):
    listed = index_locations(client, schemas)
    assert {urlsplit(u).path for u in listed} == {
        f"/sitemap-{name}.xml"
        for name in ("news", "articles", "sections", "tags", "authors", "pages")
    }
    assert all(u.startswith(SITE_ROOT) for u in listed)
    for url in listed:
        root = fetch(client, url)
        assert_valid(schemas["urlset"], root)
        assert locations(root), url


def test_schemas_reject_what_google_would_reject(schemas):
    """The kept XSDs really check: a regional language tag and a bad lastmod both fail."""
    bad = f"""<urlset xmlns="{NS["sm"]}" xmlns:news="{NS["news"]}"><url><loc>http://localhost/a/b/</loc>
      <lastmod>yesterday</lastmod><news:news><news:publication><news:name>X</news:name>
      <news:language>en-GB</news:language></news:publication>
      <news:publication_date>2026-01-01</news:publication_date><news:title>T</news:title>
      </news:news></url></urlset>"""
    schema = schemas["urlset"]
    assert not schema.validate(etree.fromstring(bad))
    messages = " ".join(str(e) for e in schema.error_log)
    assert "lastmod" in messages and "language" in messages


def test_article_sitemap_lists_only_published_articles_with_lastmod_and_pictures(
    client, edition, schemas
):
    root = fetch(client, "/sitemap-articles.xml")
    assert_valid(schemas["urlset"], root)
    assert sorted(locations(root)) == sorted(f"{SITE_ROOT}{a.url}" for a in edition.articles)
    assert f"{SITE_ROOT}/politics/unpublished-draft-story/" not in locations(root)
    lead = root.xpath(f'//sm:url[sm:loc="{SITE_ROOT}{edition.lead.url}"]', namespaces=NS)[0]
    lastmod = lead.findtext("sm:lastmod", namespaces=NS)
    assert dt.datetime.fromisoformat(lastmod) == edition.lead.date_modified().replace(microsecond=0)
    images = lead.xpath("image:image/image:loc/text()", namespaces=NS)
    assert len(images) == 1 and images[0].startswith(f"{SITE_ROOT}/media/")
    tram = root.xpath(f'//sm:url[sm:loc="{SITE_ROOT}{edition.articles[1].url}"]', namespaces=NS)[0]
    assert tram.xpath("image:image", namespaces=NS) == []  # no picture, no image entry


def test_news_sitemap_keeps_the_last_48_hours_and_drops_a_49_hour_old_article(
    client, edition, schemas
):
    now = timezone.now()
    recent = publish_article(
        title="Published 47 hours ago", published_at=now - dt.timedelta(hours=47)
    )
    stale = publish_article(
        title="Published 49 hours ago", published_at=now - dt.timedelta(hours=49)
    )
    root = fetch(client, "/sitemap-news.xml")
    assert_valid(schemas["urlset"], root)
    found = locations(root)
    assert f"{SITE_ROOT}{stale.url}" not in found
    assert f"{SITE_ROOT}{edition.old.url}" not in found
    expected = [edition.lead, edition.articles[1], recent]  # newest first
    assert found == [f"{SITE_ROOT}{a.url}" for a in expected]
    first = root.xpath("//sm:url", namespaces=NS)[0]
    assert (
        first.findtext("news:news/news:publication/news:name", namespaces=NS) == "The Test Courier"
    )
    assert first.findtext("news:news/news:publication/news:language", namespaces=NS) == "en"
    assert first.findtext("news:news/news:title", namespaces=NS) == edition.lead.title
    published = first.findtext("news:news/news:publication_date", namespaces=NS)
    assert dt.datetime.fromisoformat(published) == edition.lead.first_published_at.replace(
        microsecond=0
    )


def test_news_sitemap_is_capped_at_1000_urls(client, edition, monkeypatch):
    monkeypatch.setattr(sitemaps, "NEWS_MAX_URLS", 1)
    root = fetch(client, "/sitemap-news.xml")
    assert locations(root) == [f"{SITE_ROOT}{edition.lead.url}"]
    assert sitemaps.GoogleNewsSitemap.limit == 1000


def test_news_title_round_trips_an_adversarial_headline(client, edition, schemas):
    publish_article(title=ADVERSARIAL_HEADLINE)
    root = fetch(client, "/sitemap-news.xml")
    assert_valid(schemas["urlset"], root)
    assert ADVERSARIAL_HEADLINE in root.xpath("//news:title/text()", namespaces=NS)


def test_article_sitemap_splits_into_files_of_at_most_limit_urls(
    client, edition, schemas, monkeypatch
):
    monkeypatch.setattr(sitemaps.ArticleSitemap, "limit", 2)
    listed = [u for u in index_locations(client, schemas) if "/sitemap-articles.xml" in u]
    assert listed == [f"{SITE_ROOT}/sitemap-articles.xml", f"{SITE_ROOT}/sitemap-articles.xml?p=2"]
    seen = []
    for url in listed:
        root = fetch(client, url)
        assert_valid(schemas["urlset"], root)
        assert len(locations(root)) <= 2
        seen += locations(root)
    assert sorted(seen) == sorted(f"{SITE_ROOT}{a.url}" for a in edition.articles)
    assert client.get("/sitemap-articles.xml?p=3").status_code == 404


def test_empty_news_sitemap_is_left_out_of_the_index(client, db, schemas):
    publish_article(title="Old news only", published_at=timezone.now() - dt.timedelta(days=5))
    listed = {urlsplit(u).path for u in index_locations(client, schemas)}
    assert "/sitemap-news.xml" not in listed
    assert "/sitemap-articles.xml" in listed


def test_tag_author_and_section_sitemaps_link_their_archives(client, edition, schemas):
    tags = locations(fetch(client, "/sitemap-tags.xml"))
    assert f"{SITE_ROOT}/tags/transport/" in tags and f"{SITE_ROOT}/tags/trams/" in tags
    authors = locations(fetch(client, "/sitemap-authors.xml"))
    assert sorted(authors) == [
        f"{SITE_ROOT}/authors/ada-reporter/",
        f"{SITE_ROOT}/authors/bo-editor/",
    ]
    sections = locations(fetch(client, "/sitemap-sections.xml"))
    assert sections == [f"{SITE_ROOT}/politics/", f"{SITE_ROOT}/city/"]
    for url in tags + authors + sections:
        assert client.get(urlsplit(url).path).status_code == 200, url


def test_unknown_sitemap_is_404(client, db):
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_robots_txt_names_the_sitemap_and_keeps_search_and_the_newsroom_out(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /search/" in lines
    assert "Disallow: /newsroom/" in lines
    assert f"Sitemap: {SITE_ROOT}/sitemap.xml" in lines
    assert "Disallow: /" not in lines
