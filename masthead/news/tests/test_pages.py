"""Reader pages: page type rules, the article page's anatomy (the seed's), archives and listings."""

import datetime as dt

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Page, Revision
from wagtail.test.utils import WagtailPageTestCase

from masthead.news import services
from masthead.news.models import ArticlePage, HomePage, SectionPage, StandardPage
from masthead.news.tests.factories import (
    TEST_MEDIA_ROOT,
    ArticlePageFactory,
    AuthorFactory,
    NewsImageFactory,
    publish_article,
    section,
)

# The bound for the article page, whatever its authors, tags or related links.
MAX_ARTICLE_QUERIES = 15


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.content.decode(), "html.parser")


def region(soup: BeautifulSoup, name: str):
    found = soup.select(f'[data-region="{name}"]')
    assert found, f'no element with data-region="{name}"'
    return found[0]


def local_links(element) -> list[str]:
    return [a["href"] for a in element.find_all("a", href=True) if a["href"].startswith("/")]


# --- Page type rules ------------------------------------------------------------------


class PageTypeRulesTests(WagtailPageTestCase):
    """HomePage → SectionPage → ArticlePage, pinned both ways."""

    def test_front_page_holds_sections_and_standard_pages(self):
        self.assertAllowedSubpageTypes(HomePage, {SectionPage, StandardPage})

    def test_section_holds_only_articles(self):
        self.assertAllowedSubpageTypes(SectionPage, {ArticlePage})
        self.assertAllowedParentPageTypes(SectionPage, {HomePage})

    def test_article_lives_only_in_a_section_and_has_no_children(self):
        self.assertAllowedParentPageTypes(ArticlePage, {SectionPage})
        self.assertAllowedSubpageTypes(ArticlePage, set())
        self.assertCanNotCreateAt(HomePage, ArticlePage)

    def test_front_page_comes_from_the_data_migration_and_is_the_site_root(self):
        home = HomePage.objects.get()
        self.assertTrue(home.live)
        self.assertEqual(home.url, "/")

    def test_article_page_is_routable_and_renderable(self):
        article = publish_article(title="Routable story")
        self.assertPageIsRoutable(article)
        self.assertPageIsRenderable(article)


# --- Article page anatomy ---------------------------------------------------------------


@override_settings(MEDIA_ROOT=TEST_MEDIA_ROOT)
class ArticlePageAnatomyTests(WagtailPageTestCase):
    """The article page follows the seed's anatomy (issue 3, Reader pages)."""

    @classmethod
    def setUpTestData(cls):
        politics = section("Politics")
        city = section("City")
        cls.others = [
            publish_article(section_page=city, title=f"Neighbour story {i}") for i in range(3)
        ]
        cls.picked = publish_article(section_page=city, title="Council agrees bridge repair budget")
        cls.author = AuthorFactory(
            name="Ada Lovelace", slug="ada-lovelace", bio="Ada writes about engines."
        )
        cls.article = publish_article(
            section_page=politics,
            title="Mayor Announces New River Crossing",
            paragraphs=[
                "The mayor announced a new crossing on Monday.",
                "Work is due to start next spring.",
                "Residents welcomed the plan.",
            ],
            authors=[cls.author],
            tags=["Transport", "Wend Bridge"],
            related=[("Council agrees bridge repair budget", 1)],
            featured_image=NewsImageFactory(),
        )

    def get_soup(self, url=None):
        response = self.client.get(url or self.article.url)
        self.assertEqual(response.status_code, 200)
        return soup_of(response)

    def test_article_url_is_section_then_slug(self):
        self.assertEqual(self.article.url, "/politics/mayor-announces-new-river-crossing/")

    def test_article_page_has_the_headline_as_its_only_h1(self):
        h1s = self.get_soup().find_all("h1")
        self.assertEqual(
            [h.get_text(strip=True) for h in h1s], ["Mayor Announces New River Crossing"]
        )

    def test_byline_shows_the_authors_picture_and_links_to_the_author_page(self):
        byline = region(self.get_soup(), "byline")
        img = byline.find("img", alt="Picture of Ada Lovelace")
        self.assertIsNotNone(img, byline)
        self.assertFalse(
            img["src"].startswith("data:"), "an author with a picture shows the picture"
        )
        author_links = [
            a["href"]
            for a in byline.find_all("a", href=True)
            if a.get_text(strip=True) == "Ada Lovelace"
        ]
        self.assertEqual(author_links, ["/authors/ada-lovelace/"])
        self.assertEqual(self.client.get("/authors/ada-lovelace/").status_code, 200)

    def test_byline_has_the_publication_date_in_a_time_element(self):
        time = region(self.get_soup(), "byline").find("time", datetime=True)
        self.assertIsNotNone(time)
        shown = dt.datetime.fromisoformat(time["datetime"])
        self.assertIsNotNone(shown.tzinfo, "the datetime attribute needs a time zone")
        # Seconds precision is enough for a reader; the moment must be the publication time.
        self.assertLess(abs(shown - self.article.first_published_at), dt.timedelta(seconds=1))

    def test_article_body_paragraphs_appear_in_order(self):
        html = self.client.get(self.article.url).content.decode()
        positions = [
            html.find("The mayor announced a new crossing on Monday."),
            html.find("Work is due to start next spring."),
            html.find("Residents welcomed the plan."),
        ]
        self.assertNotIn(-1, positions)
        self.assertEqual(positions, sorted(positions))

    def test_also_read_links_the_picked_story_after_its_paragraph(self):
        html = self.client.get(self.article.url).content.decode()
        also = region(BeautifulSoup(html, "html.parser"), "also-read")
        links = [(a["href"], a.get_text(strip=True)) for a in also.find_all("a", href=True)]
        self.assertEqual(links, [(self.picked.url, self.picked.title)])
        # also_read_after=1: between the first and second paragraphs.
        at = html.find('data-region="also-read"')
        self.assertLess(html.find("The mayor announced"), at)
        self.assertLess(at, html.find("Work is due to start"))
        self.assertEqual(self.client.get(self.picked.url).status_code, 200)

    def test_related_trending_and_recent_are_filled_with_links_that_answer(self):
        soup = self.get_soup()
        for name in ("related", "trending", "recent"):
            with self.subTest(region=name):
                links = local_links(region(soup, name))
                self.assertTrue(links, f"{name} region has no links")
                self.assertNotIn(self.article.url, links, f"{name} lists the article itself")
                for href in links:
                    self.assertEqual(self.client.get(href).status_code, 200, href)

    def test_related_lists_the_editor_pick_first(self):
        self.assertEqual(local_links(region(self.get_soup(), "related"))[0], self.picked.url)

    def test_header_search_box_is_labelled_and_submits_to_search(self):
        form = region(self.get_soup(), "search").find("form")
        self.assertEqual(form["action"], "/search/")
        self.assertEqual(form.get("method", "get").lower(), "get")
        field = form.find("input", attrs={"name": "q"})
        label = form.find("label", attrs={"for": field["id"]})
        self.assertIsNotNone(label)
        self.assertEqual(label.get_text(strip=True), "Type to Search")

        response = self.client.get("/search/", {"q": "river crossing"})
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.article.url, local_links(soup_of(response)))

    def test_author_page_shows_picture_bio_and_articles(self):
        soup = self.get_soup("/authors/ada-lovelace/")
        img = soup.find("img", alt="Picture of Ada Lovelace")
        self.assertIsNotNone(img)
        self.assertFalse(img["src"].startswith("data:"))
        self.assertIn("Ada writes about engines.", soup.get_text())
        self.assertIn(self.article.url, local_links(soup.find("main")))

    def test_tag_page_lists_the_tagged_articles(self):
        links = local_links(self.get_soup("/tags/wend-bridge/").find("main"))
        self.assertIn(self.article.url, links)
        self.assertNotIn(self.picked.url, links)  # not tagged
        self.assertEqual(self.client.get("/tags/no-such-tag/").status_code, 404)

    def test_article_tags_link_to_their_tag_pages(self):
        hrefs = local_links(self.get_soup().find("article"))
        self.assertIn("/tags/transport/", hrefs)
        self.assertIn("/tags/wend-bridge/", hrefs)


@pytest.mark.django_db
def test_unresolved_also_read_links_to_search_results(client):
    article = publish_article(
        title="Story with a pending pick",
        paragraphs=["One.", "Two."],
        related=[("A story that does not exist yet", 1)],
    )
    also = region(soup_of(client.get(article.url)), "also-read")
    link = also.find("a", href=True)
    assert link.get_text(strip=True) == "A story that does not exist yet"
    assert link["href"].startswith("/search/?q=")
    assert client.get(link["href"]).status_code == 200


# --- Author, tag, section, front page, 404 ---------------------------------------------------


@pytest.mark.django_db
def test_author_without_picture_gets_an_initials_avatar(client):
    author = AuthorFactory(name="Grace Hopper", slug="grace-hopper", picture=None)
    article = publish_article(title="Compiler story", authors=[author])
    for url in (article.url, "/authors/grace-hopper/"):
        soup = soup_of(client.get(url))
        img = soup.find("img", alt="Picture of Grace Hopper")
        assert img is not None, url
        assert img["src"].startswith("data:image/svg+xml"), url
    assert author.initials == "GH"


@pytest.mark.django_db
def test_unknown_author_is_404(client):
    assert client.get("/authors/nobody-here/").status_code == 404


@pytest.mark.django_db
def test_section_page_is_paginated_and_tolerates_bad_page_numbers(client):
    from masthead.news.models.pages import PAGE_SIZE

    sport = section("Sport")
    now = timezone.now()
    stories = []
    for i in range(PAGE_SIZE + 1):
        page, _ = services.article_save(
            section=sport,
            title=f"Match report {i}",
            body=services.body_from_paragraphs(["A game was played."]),
            authors=[AuthorFactory()] if i == 0 else [stories[0].authors[0]],
            published_at=now - dt.timedelta(hours=i),
        )
        stories.append(page)
    oldest, newest = stories[-1], stories[0]

    first = local_links(soup_of(client.get(sport.url)).find("main"))
    assert newest.url in first and oldest.url not in first
    second = client.get(sport.url, {"page": "2"})
    assert second.status_code == 200
    assert oldest.url in local_links(soup_of(second).find("main"))
    for bad in ("abc", "999", "-1"):
        response = client.get(sport.url, {"page": bad})
        assert response.status_code == 200, bad
    assert oldest.url in local_links(soup_of(client.get(sport.url, {"page": "999"})).find("main"))
    assert newest.url in local_links(soup_of(client.get(sport.url, {"page": "abc"})).find("main"))


@pytest.mark.django_db
def test_front_page_shows_the_lead_story_and_the_sections(client):
    city, sport = section("City"), section("Sport")
    older = publish_article(
        section_page=city,
        title="Older city story",
        published_at=timezone.now() - dt.timedelta(days=2),
    )
    newest = publish_article(
        section_page=sport,
        title="Newest sport story",
        published_at=timezone.now() - dt.timedelta(minutes=1),
    )
    response = client.get("/")
    assert response.status_code == 200
    soup = soup_of(response)
    main = soup.find("main")
    links = local_links(main)
    assert links.index(newest.url) < links.index(older.url), "the newest story leads"
    assert city.url in links and sport.url in links
    nav = soup.find("nav")
    assert nav is not None and {city.url, sport.url} <= set(local_links(nav))


@pytest.mark.django_db
def test_not_found_page_offers_search_and_latest_stories(client):
    story = publish_article(title="Latest story on the site")
    response = client.get("/no-such-page/at-all/")
    assert response.status_code == 404
    soup = soup_of(response)
    forms = [f for f in soup.find_all("form") if f.get("action") == "/search/"]
    assert forms and all(f.find("input", attrs={"name": "q"}) for f in forms)
    assert story.url in local_links(soup.find("main"))


@pytest.mark.django_db
def test_scheduled_article_is_hidden_until_its_time(client):
    politics = section("Politics")
    article, _ = services.article_save(
        section=politics,
        title="Embargoed budget story",
        body=services.body_from_paragraphs(["Numbers."]),
        authors=[AuthorFactory()],
        published_at=timezone.now() + dt.timedelta(hours=2),
    )
    article.refresh_from_db()
    assert not article.live
    url = "/politics/embargoed-budget-story/"
    assert client.get(url).status_code == 404
    assert "Embargoed budget story" not in client.get("/").content.decode()

    # Time passes (no freezegun here): move the scheduled time into the past everywhere
    # Wagtail keeps it (the page, the approved revision and that revision's content),
    # then run the scheduler as `make run` does every minute.
    past = timezone.now() - dt.timedelta(minutes=1)
    revisions = list(
        Revision.page_revisions.filter(object_id=str(article.pk), approved_go_live_at__isnull=False)
    )
    assert revisions, "the article was not scheduled"
    for revision in revisions:
        revision.approved_go_live_at = past
        revision.content["go_live_at"] = past.isoformat()
        revision.save()
    Page.objects.filter(pk=article.pk).update(go_live_at=past)
    call_command("publish_scheduled")

    article.refresh_from_db()
    assert article.live
    assert client.get(url).status_code == 200
    assert url in client.get("/").content.decode()


@pytest.mark.django_db
def test_changed_slug_redirects_from_the_old_url(client, django_capture_on_commit_callbacks):
    article = publish_article(section_page=section("City"), title="Old headline here")
    old_url = article.url
    assert client.get(old_url).status_code == 200
    article.slug = "new-headline-here"
    # Wagtail sends page_slug_changed (which creates the redirect) on commit.
    with django_capture_on_commit_callbacks(execute=True):
        article.save_revision().publish()
    article.refresh_from_db()
    new_url = article.url
    assert new_url == "/city/new-headline-here/"
    response = client.get(old_url)
    assert response.status_code in (301, 302)
    assert response["Location"].endswith(new_url)
    assert client.get(new_url).status_code == 200


# --- Query counts -----------------------------------------------------------------------


@pytest.fixture
def render_every_time(settings):
    """Turn off the full-page cache: these tests count what rendering a page costs."""
    settings.MASTHEAD_PAGE_CACHE = False


def count_queries(client, url: str) -> int:
    assert client.get(url).status_code == 200  # warm-up: renditions, content types, site
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_article_page_runs_a_constant_number_of_queries(client, render_every_time):
    politics = section("Politics")
    targets = [publish_article(section_page=politics, title=f"Target story {i}") for i in range(4)]
    small = publish_article(
        section_page=politics,
        title="Small story",
        authors=[AuthorFactory()],
        tags=["One"],
        featured_image=NewsImageFactory(),
    )
    big = publish_article(
        section_page=politics,
        title="Big story",
        paragraphs=["P1.", "P2.", "P3.", "P4."],
        authors=[AuthorFactory(), AuthorFactory(), AuthorFactory(picture=None), AuthorFactory()],
        tags=["One", "Two", "Three", "Four", "Five", "Six"],
        related=[(t.title, 2 if i == 0 else None) for i, t in enumerate(targets)],
        featured_image=NewsImageFactory(),
    )
    assert big.related_links.filter(target__isnull=False).count() == 4
    small_count = count_queries(client, small.url)
    big_count = count_queries(client, big.url)
    assert small_count == big_count, (small_count, big_count)
    assert big_count <= MAX_ARTICLE_QUERIES, big_count


@pytest.mark.django_db
def test_article_page_query_bound_with_pytest_django_fixture(
    client, django_assert_max_num_queries, render_every_time
):
    article = publish_article(tags=["A", "B", "C"], featured_image=NewsImageFactory())
    client.get(article.url)
    with django_assert_max_num_queries(MAX_ARTICLE_QUERIES):
        assert client.get(article.url).status_code == 200


def _publish_many(sections: list[SectionPage], count: int, start: int) -> None:
    now = timezone.now()
    author = AuthorFactory()
    for i in range(start, start + count):
        target = sections[i % len(sections)]
        services.article_save(
            section=target,
            title=f"Front page story {i}",
            body=services.body_from_paragraphs(["Text."]),
            authors=[author],
            tags=[f"tag{i % 3}"],
            featured_image=NewsImageFactory(),
            published_at=now - dt.timedelta(minutes=i + 1),
        )


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/city/"])
def test_listing_pages_cost_the_same_with_3_and_30_articles(client, url, render_every_time):
    sections = [section("City"), section("Sport")]
    _publish_many(sections, 3, 0)
    few = count_queries(client, url)
    _publish_many(sections, 27, 3)
    many = count_queries(client, url)
    assert few == many, (few, many)


@pytest.mark.django_db
def test_article_page_factory_builds_a_page_under_a_section():
    politics = section("Politics")
    page = ArticlePageFactory(parent=politics, title="Factory story")
    assert page.get_parent().specific == politics
    assert page.url_path.endswith("/politics/factory-story/")
