"""JSON-LD, Open Graph, Twitter cards, canonical links and feed autodiscovery on reader pages."""

import datetime as dt

import extruct
import pytest
from bs4 import BeautifulSoup

from masthead.core import seo
from masthead.news.tests.factories import AuthorFactory, publish_article
from masthead.news.tests.syndication import (
    ADVERSARIAL_HEADLINE,
    SITE_ROOT,
    build_edition,
    picture,
)


@pytest.fixture
def edition(db):
    return build_edition()


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def json_ld(html: str, kind: str) -> list[dict]:
    found = extruct.extract(html, base_url=SITE_ROOT, syntaxes=["json-ld"])["json-ld"]
    return [item for item in found if item.get("@type") == kind]


def opengraph(html: str) -> dict[str, list[str]]:
    """Return every og:/article: property of the page, each with all its values in order."""
    props: dict[str, list[str]] = {}
    for item in extruct.extract(html, syntaxes=["opengraph"])["opengraph"]:
        for key, value in item["properties"]:
            props.setdefault(key, []).append(value)
    return props


def meta_names(html: str) -> dict[str, str]:
    soup = BeautifulSoup(html, "html.parser")
    return {m["name"]: m["content"] for m in soup.find_all("meta", attrs={"name": True})}


def canonical(html: str) -> str | None:
    link = BeautifulSoup(html, "html.parser").find("link", rel="canonical")
    return link["href"] if link else None


def feed_links(html: str) -> list[tuple[str, str]]:
    soup = BeautifulSoup(html, "html.parser")
    return [(link["type"], link["href"]) for link in soup.find_all("link", rel="alternate")]


def test_article_has_a_news_article_with_every_property_google_lists(client, edition):
    lead = edition.lead
    html = get(client, lead.url)
    [article] = json_ld(html, "NewsArticle")
    url = f"{SITE_ROOT}{lead.url}"
    assert article["headline"] == lead.title
    assert article["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}
    assert dt.datetime.fromisoformat(article["datePublished"]) == lead.first_published_at.replace(
        microsecond=0
    )
    assert dt.datetime.fromisoformat(article["dateModified"]) == lead.date_modified().replace(
        microsecond=0
    )
    assert article["author"] == [
        {"@type": "Person", "name": "Bo Editor", "url": f"{SITE_ROOT}/authors/bo-editor/"},
        {"@type": "Person", "name": "Ada Reporter", "url": f"{SITE_ROOT}/authors/ada-reporter/"},
    ]
    publisher = article["publisher"]
    assert publisher["name"] == "The Test Courier"
    assert publisher["logo"]["url"].startswith(f"{SITE_ROOT}/media/")
    assert publisher["sameAs"] == [
        "https://x.com/testcourier",
        "https://www.facebook.com/testcourier",
    ]
    assert article["articleSection"] == "Politics"
    assert article["keywords"] == ["Transport", "Wend Bridge"]
    ratios = [(img["width"] / img["height"]) for img in article["image"]]
    assert ratios == pytest.approx([16 / 9, 4 / 3, 1.0], rel=0.01)
    for img in article["image"]:
        assert img["url"].startswith(f"{SITE_ROOT}/media/")
        assert img["width"] * img["height"] >= seo.MIN_STRUCTURED_IMAGE_PIXELS


def test_article_with_a_small_picture_only_offers_the_crops_it_allows(client, db):
    build_edition()
    article = publish_article(title="Small picture story", featured_image=picture(400, 150))
    [data] = json_ld(get(client, article.url), "NewsArticle")
    # 400×150: 16:9 is 266×150 (39,900 px, too small); 4:3 200×150 and 1:1 150×150 are smaller still.
    assert "image" not in data
    # 1200×200: 16:9 is 355×200 and 4:3 266×200 (enough); 1:1 is 200×200 (40,000 px, too small).
    wide = publish_article(title="Wide picture story", featured_image=picture(1200, 200))
    [data] = json_ld(get(client, wide.url), "NewsArticle")
    ratios = [i["width"] / i["height"] for i in data["image"]]
    assert ratios == pytest.approx([16 / 9, 4 / 3], rel=0.01)


def test_adversarial_headline_round_trips_and_cannot_break_out_of_the_script(client, db):
    build_edition()
    article = publish_article(title=ADVERSARIAL_HEADLINE)
    html = get(client, article.url)
    [data] = json_ld(html, "NewsArticle")
    assert data["headline"] == ADVERSARIAL_HEADLINE
    [crumbs] = json_ld(html, "BreadcrumbList")
    assert crumbs["itemListElement"][-1]["name"] == ADVERSARIAL_HEADLINE
    soup = BeautifulSoup(html, "html.parser")
    assert not any("alert(1)" == (s.string or "").strip() for s in soup.find_all("script"))
    assert opengraph(html)["og:title"] == [ADVERSARIAL_HEADLINE]
    assert meta_names(html)["twitter:title"] == ADVERSARIAL_HEADLINE


def test_json_ld_escapes_markup_but_parses_back_to_the_same_text():
    script = seo.json_ld({"headline": "</script><!-- & \u2028"})
    body = script.removeprefix('<script type="application/ld+json">').removesuffix("</script>")
    assert "<" not in body and ">" not in body and "&" not in body
    assert extruct.extract(f"<html><head>{script}</head></html>", syntaxes=["json-ld"])[
        "json-ld"
    ] == [{"headline": "</script><!-- & \u2028"}]


def test_article_has_a_breadcrumb_of_front_page_section_and_story(client, edition):
    [crumbs] = json_ld(get(client, edition.lead.url), "BreadcrumbList")
    assert [(i["position"], i["name"], i["item"]) for i in crumbs["itemListElement"]] == [
        (1, "The Test Courier", f"{SITE_ROOT}/"),
        (2, "Politics", f"{SITE_ROOT}/politics/"),
        (3, edition.lead.title, f"{SITE_ROOT}{edition.lead.url}"),
    ]


def test_article_social_cards_and_canonical(client, edition):
    lead = edition.lead
    html = get(client, lead.url)
    og = opengraph(html)
    url = f"{SITE_ROOT}{lead.url}"
    assert canonical(html) == url
    assert og["og:type"] == ["article"]
    assert og["og:url"] == [url]
    assert og["og:title"] == [lead.title]
    assert og["og:description"] == [lead.standfirst]
    assert og["og:site_name"] == ["The Test Courier"]
    assert og["og:locale"] == ["en_GB"]
    assert og["og:image"][0].startswith(f"{SITE_ROOT}/media/")
    assert (og["og:image:width"], og["og:image:height"]) == (["640"], ["360"])
    assert og["og:image:alt"] == ["The Wend at dusk"]
    assert dt.datetime.fromisoformat(
        og["article:published_time"][0]
    ) == lead.first_published_at.replace(microsecond=0)
    assert og["article:modified_time"]
    assert og["article:author"] == [
        f"{SITE_ROOT}/authors/bo-editor/",
        f"{SITE_ROOT}/authors/ada-reporter/",
    ]
    assert og["article:section"] == ["Politics"]
    assert og["article:tag"] == ["Transport", "Wend Bridge"]
    twitter = meta_names(html)
    assert twitter["twitter:card"] == "summary_large_image"
    assert twitter["twitter:site"] == "@testcourier"
    assert twitter["twitter:image"] == og["og:image"][0]


def test_article_without_a_picture_uses_the_publications_default_image(client, edition):
    from masthead.core.models import PublicationSettings

    default = PublicationSettings.objects.get().default_image.get_rendition(seo.IMAGE_16X9)
    tram = edition.articles[1]
    html = get(client, tram.url)
    assert opengraph(html)["og:image"] == [f"{SITE_ROOT}{default.url}"]
    assert meta_names(html)["twitter:card"] == "summary_large_image"
    [data] = json_ld(html, "NewsArticle")
    assert "image" not in data  # structured data describes the article's own picture only


def test_front_page_has_website_with_search_action_and_feeds(client, edition):
    html = get(client, "/")
    [site] = json_ld(html, "WebSite")
    assert site["url"] == f"{SITE_ROOT}/"
    assert site["name"] == "The Test Courier"
    action = site["potentialAction"]
    assert action["@type"] == "SearchAction"
    assert action["target"]["urlTemplate"] == f"{SITE_ROOT}/search/?q={{search_term_string}}"
    assert action["query-input"] == "required name=search_term_string"
    assert site["publisher"]["logo"]["url"].startswith(f"{SITE_ROOT}/media/")
    assert canonical(html) == f"{SITE_ROOT}/"
    assert opengraph(html)["og:type"] == ["website"]
    assert feed_links(html) == [
        ("application/rss+xml", "/feed/"),
        ("application/atom+xml", "/feed/atom/"),
    ]


def test_author_page_is_a_profile_page_about_a_person(client, edition):
    html = get(client, "/authors/ada-reporter/")
    [profile] = json_ld(html, "ProfilePage")
    person = profile["mainEntity"]
    assert person["@type"] == "Person"
    assert person["name"] == "Ada Reporter"
    assert person["url"] == f"{SITE_ROOT}/authors/ada-reporter/"
    assert person["jobTitle"] == "City reporter"
    assert opengraph(html)["og:type"] == ["profile"]
    assert ("application/atom+xml", "/authors/ada-reporter/feed/atom/") in feed_links(html)


@pytest.mark.parametrize(
    "url, feeds",
    [
        ("/politics/", ["/politics/feed/", "/politics/feed/atom/"]),
        ("/tags/transport/", ["/tags/transport/feed/", "/tags/transport/feed/atom/"]),
        ("/authors/bo-editor/", ["/authors/bo-editor/feed/", "/authors/bo-editor/feed/atom/"]),
        (
            "/politics/council-votes-on-the-river-crossing/",
            ["/politics/feed/", "/politics/feed/atom/"],
        ),
        ("/search/?q=river", []),
    ],
)
def test_every_page_advertises_the_site_feeds_and_its_own(client, edition, url, feeds):
    hrefs = [href for _, href in feed_links(get(client, url))]
    assert hrefs == ["/feed/", "/feed/atom/"] + feeds
    for href in hrefs:
        assert client.get(href).status_code == 200, href


def test_search_and_404_pages_have_no_canonical_or_cards(client, edition):
    for url, status in (("/search/?q=river", 200), ("/no-such-page/", 404)):
        response = client.get(url)
        assert response.status_code == status
        html = response.content.decode()
        assert canonical(html) is None and "og:title" not in html, url


def test_paginated_listing_pages_are_canonical_to_themselves(client, edition):
    author = AuthorFactory(name="Prolific Writer", slug="prolific-writer")
    for n in range(21):
        publish_article(section_page=edition.city, title=f"Filler story {n}", authors=[author])
    assert canonical(get(client, "/city/")) == f"{SITE_ROOT}/city/"
    assert canonical(get(client, "/city/?page=1")) == f"{SITE_ROOT}/city/"
    assert canonical(get(client, "/city/?page=2")) == f"{SITE_ROOT}/city/?page=2"
    assert canonical(get(client, "/city/?page=nonsense&utm_source=x")) == f"{SITE_ROOT}/city/"
    assert canonical(get(client, "/authors/prolific-writer/?page=2")) == (
        f"{SITE_ROOT}/authors/prolific-writer/?page=2"
    )


def test_publication_details_come_from_the_site_setting(client, edition):
    from masthead.core.models import PublicationSettings

    settings = PublicationSettings.objects.get()
    settings.name = "The Renamed Gazette"
    settings.language = "fr-CA"
    settings.twitter_handle = "@gazette"
    settings.save()
    html = get(client, edition.lead.url)
    og = opengraph(html)
    assert og["og:site_name"] == ["The Renamed Gazette"]
    assert og["og:locale"] == ["fr_CA"]
    assert meta_names(html)["twitter:site"] == "@gazette"
    [data] = json_ld(html, "NewsArticle")
    assert data["publisher"]["name"] == "The Renamed Gazette"
    assert data["inLanguage"] == "fr-CA"
    assert '<html lang="fr-CA">' in html


@pytest.mark.parametrize(
    "tag, expected",
    [("en", "en"), ("en-GB", "en"), ("pt_BR", "pt"), ("zh-Hans", "zh-cn"), ("zh-TW", "zh-tw"),
     ("zh-Hant-HK", "zh-tw"), ("fil", "fil"), ("", "en"), ("123", "en")],
)  # fmt: skip
def test_news_sitemap_language_is_what_google_news_accepts(tag, expected):
    assert seo.news_language(tag) == expected
