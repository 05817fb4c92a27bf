"""RSS 2.0 and Atom feeds: well-formed for feedparser, the published articles newest first."""

import feedparser
import pytest
from wagtail.embeds.blocks import EmbedValue
from wagtail.rich_text import RichText

from masthead.news.feeds import body_html
from masthead.news.models import ArticlePage
from masthead.news.tests.factories import publish_article
from masthead.news.tests.syndication import ADVERSARIAL_HEADLINE, SITE_ROOT, build_edition

FEEDS = {
    "site": ("/feed/", "/feed/atom/"),
    "section": ("/politics/feed/", "/politics/feed/atom/"),
    "author": ("/authors/ada-reporter/feed/", "/authors/ada-reporter/feed/atom/"),
    "tag": ("/tags/transport/feed/", "/tags/transport/feed/atom/"),
}


@pytest.fixture
def edition(db):
    return build_edition()


def parse(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, f"{url}: {parsed.get('bozo_exception')}"
    return response, parsed


def expected_titles(edition, which):
    """Return the published articles each feed should list, newest first."""
    articles = edition.articles
    if which == "section":
        articles = [a for a in articles if a.get_parent().pk == edition.politics.pk]
    elif which == "author":
        articles = [a for a in articles if edition.reporter in a.authors]
    elif which == "tag":
        articles = [a for a in articles if "Transport" in [t.name for t in a.tags.all()]]
    return [a.title for a in articles]


@pytest.mark.parametrize("which", list(FEEDS))
@pytest.mark.parametrize("atom", [False, True], ids=["rss", "atom"])
def test_every_feed_parses_cleanly_and_lists_published_articles_newest_first(
    client, edition, which, atom
):
    response, parsed = parse(client, FEEDS[which][atom])
    assert parsed.version == ("atom10" if atom else "rss20")
    assert response["Content-Type"].startswith(
        "application/atom+xml" if atom else "application/rss+xml"
    )
    titles = [entry.title for entry in parsed.entries]
    assert titles == expected_titles(edition, which)
    assert titles, "every feed of the edition has articles"
    assert "Unpublished draft story" not in titles


@pytest.mark.parametrize("atom", [False, True], ids=["rss", "atom"])
def test_feed_items_carry_summary_full_content_authors_categories_and_picture(
    client, edition, atom
):
    _, parsed = parse(client, FEEDS["site"][atom])
    entry = parsed.entries[0]
    lead = edition.lead
    assert entry.link == f"{SITE_ROOT}{lead.url}"
    assert entry.summary == lead.standfirst
    content = entry.content[0].value
    assert "The council voted on Monday." in content
    assert 'href="https://example.org/report"' in content
    assert "<script" not in content
    assert entry.author == "Bo Editor and Ada Reporter"
    assert {t.term for t in entry.tags} == {"Politics", "Transport", "Wend Bridge"}
    assert entry.published_parsed is not None
    if atom:
        assert entry.updated_parsed is not None
        enclosures = [link for link in entry.links if link.rel == "enclosure"]
    else:
        enclosures = entry.enclosures
        media = entry.media_content[0]
        assert (media["width"], media["height"]) == (
            "640",
            "360",
        )  # never enlarged past the original
    assert len(enclosures) == 1
    assert enclosures[0]["type"] == "image/jpeg"
    assert enclosures[0]["href"].startswith(f"{SITE_ROOT}/media/")
    assert int(enclosures[0]["length"]) > 0


def test_feed_names_the_publication_and_links_back(client, edition):
    _, parsed = parse(client, "/politics/feed/")
    assert parsed.feed.title == "Politics | The Test Courier"
    assert parsed.feed.link == f"{SITE_ROOT}/politics/"
    assert parsed.feed.language == "en-GB"


def test_feed_body_drops_scripts_and_makes_links_absolute(rf, db):
    """Bodies are cleaned when saved; the feed cleans again whatever reached the database."""
    page = ArticlePage(title="Hostile", body=[])
    page.body = [
        ("paragraph", RichText('<p>Safe <a href="/politics/" onclick="x()">relative</a></p>')),
        ("heading", "<script>alert(1)</script>Heading"),
        ("embed", {"url": EmbedValue("https://video.example/watch?v=1"), "caption": ""}),
    ]
    html = body_html(page, rf.get("/feed/"))
    assert "<script" not in html and "onclick" not in html
    assert f'<a href="{SITE_ROOT}/politics/">relative</a>' in html
    assert 'href="https://video.example/watch?v=1"' in html  # an embed becomes a plain link


def test_adversarial_headline_survives_both_feeds(client, db):
    build_edition()
    publish_article(title=ADVERSARIAL_HEADLINE)
    for url in FEEDS["site"]:
        _, parsed = parse(client, url)
        assert parsed.entries[0].title == ADVERSARIAL_HEADLINE


@pytest.mark.parametrize(
    "url", ["/authors/nobody-at-all/feed/", "/tags/no-such-tag/feed/atom/"], ids=["author", "tag"]
)
def test_feed_of_an_unknown_author_or_tag_is_404(client, edition, url):
    assert client.get(url).status_code == 404


def test_article_in_a_section_is_still_served_beside_the_section_feed(client, edition):
    assert client.get(edition.lead.url).status_code == 200
    assert client.get("/politics/").status_code == 200
