"""Publishing, editing, unpublishing or scheduling an article makes every page that shows it fresh.

Each test fills the cache with the pages that show (or will show) the story,
makes the change the way the newsroom does, lets the transaction's on-commit
work run, and checks the next request of each page is rendered afresh.
"""

import datetime as dt
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone
from wagtail.models import PageViewRestriction

from masthead.news.models import ArticlePage
from masthead.news.tests.factories import AuthorFactory, publish_article, section
from masthead.pagecache.middleware import STATUS_HEADER

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """A section with one story by a known author with a known tag."""
    politics = section("Politics")
    author = AuthorFactory(name="Grace Hopper", slug="grace-hopper")
    first = publish_article(
        section_page=politics, title="First story of the day", authors=[author], tags=["Harbour"]
    )
    return {"section": politics, "author": author, "first": first}


def listing_urls(world) -> list[str]:
    """Every page that lists the world's stories: front, section, tag, author, feeds."""
    section_url = world["section"].url
    return [
        "/",
        section_url,
        "/tags/harbour/",
        "/authors/grace-hopper/",
        "/feed/",
        f"{section_url}feed/",
        "/tags/harbour/feed/",
        "/authors/grace-hopper/feed/",
    ]


def warm(client, urls: list[str]) -> None:
    """Fill the cache with ``urls`` and check the second request of each is a hit."""
    for url in urls:
        assert client.get(url).status_code == 200, url
        assert client.get(url)[STATUS_HEADER] == "hit", url


def test_publishing_a_story_refreshes_the_front_section_tag_author_and_feed_pages(
    client, world, django_capture_on_commit_callbacks
):
    urls = listing_urls(world)
    warm(client, urls)
    with django_capture_on_commit_callbacks(execute=True):
        publish_article(
            section_page=world["section"],
            title="Breaking news at the harbour",
            authors=[world["author"]],
            tags=["Harbour"],
        )
    for url in urls:
        response = client.get(url)
        assert response[STATUS_HEADER] == "miss", url
        assert b"Breaking news at the harbour" in response.content, url


def test_editing_a_story_refreshes_its_page_and_every_listing(
    client, world, django_capture_on_commit_callbacks
):
    article = world["first"]
    urls = [article.url, *listing_urls(world)]
    warm(client, urls)
    article = ArticlePage.objects.get(pk=article.pk)
    article.title = "First story of the day, corrected"
    with django_capture_on_commit_callbacks(execute=True):
        article.save_revision().publish()
    for url in urls:
        response = client.get(url)
        assert b"First story of the day, corrected" in response.content, url


def test_unpublishing_a_story_removes_it_everywhere(
    client, world, django_capture_on_commit_callbacks
):
    article = world["first"]
    keep = publish_article(section_page=world["section"], title="A story that stays")
    urls = ["/", world["section"].url, "/feed/"]
    warm(client, [article.url, *urls])
    with django_capture_on_commit_callbacks(execute=True):
        ArticlePage.objects.get(pk=article.pk).unpublish()
    assert client.get(article.url).status_code == 404
    for url in urls:
        response = client.get(url)
        assert b"First story of the day" not in response.content, url
        assert keep.title.encode() in response.content, url


def test_a_scheduled_story_appears_everywhere_when_its_time_comes(
    client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        scheduled = publish_article(
            section_page=world["section"],
            title="Embargoed budget story",
            tags=["Harbour"],
            authors=[world["author"]],
            published_at=timezone.now() + dt.timedelta(hours=2),
        )
    assert not ArticlePage.objects.get(pk=scheduled.pk).live
    urls = listing_urls(world)
    warm(client, urls)
    assert b"Embargoed budget story" not in client.get("/").content
    # The embargo passes: the scheduler (make run's loop) publishes it.
    later = timezone.now() + dt.timedelta(hours=3)
    with (
        mock.patch("django.utils.timezone.now", return_value=later),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("publish_scheduled", verbosity=0)
    assert ArticlePage.objects.get(pk=scheduled.pk).live
    for url in urls:
        assert b"Embargoed budget story" in client.get(url).content, url


def test_scheduled_expiry_removes_a_story(client, world, django_capture_on_commit_callbacks):
    article = world["first"]
    keep = publish_article(section_page=world["section"], title="A story that stays")
    warm(client, ["/", article.url])
    ArticlePage.objects.filter(pk=article.pk).update(
        expire_at=timezone.now() - dt.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("publish_scheduled", verbosity=0)
    assert client.get(article.url).status_code == 404
    front = client.get("/").content
    assert b"First story of the day" not in front and keep.title.encode() in front


def test_editing_an_author_refreshes_their_page_and_their_stories(
    client, world, django_capture_on_commit_callbacks
):
    urls = [world["first"].url, "/authors/grace-hopper/"]
    warm(client, urls)
    author = world["author"]
    author.name = "Rear Admiral Grace Hopper"
    with django_capture_on_commit_callbacks(execute=True):
        author.save()
    for url in urls:
        assert b"Rear Admiral Grace Hopper" in client.get(url).content, url


def test_deleting_a_story_refreshes_the_listings(client, world, django_capture_on_commit_callbacks):
    warm(client, ["/"])
    with django_capture_on_commit_callbacks(execute=True):
        ArticlePage.objects.get(pk=world["first"].pk).delete()
    assert b"First story of the day" not in client.get("/").content


def test_making_a_page_private_takes_it_out_of_the_cache_at_once(
    client, world, django_capture_on_commit_callbacks
):
    article = world["first"]
    warm(client, [article.url])
    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(
            page=article, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
        )
    response = client.get(article.url)
    assert response.get(STATUS_HEADER) != "hit"
    assert b"Paragraph two." not in response.content  # the story's text is behind the password
    assert b"password" in response.content.lower()


def test_a_cdn_is_purged_for_the_story_and_its_front_and_section(
    client, world, settings, django_capture_on_commit_callbacks
):
    settings.WAGTAILFRONTENDCACHE = {
        "test": {"BACKEND": "masthead.pagecache.tests.test_invalidation.RecordingBackend"}
    }
    settings.WAGTAILFRONTENDCACHE_LANGUAGES = []
    RecordingBackend.purged.clear()
    article = ArticlePage.objects.get(pk=world["first"].pk)
    article.title = "Purge me"
    with django_capture_on_commit_callbacks(execute=True):
        article.save_revision().publish()
    paths = {urlsplit(url).path for url in RecordingBackend.purged}
    assert {article.url, world["section"].url, "/"} <= paths


class RecordingBackend:
    """A Wagtail frontend-cache backend that remembers what it was asked to purge."""

    purged: list[str] = []

    def __init__(self, params):
        pass

    def purge(self, url):
        self.purged.append(url)

    def purge_batch(self, urls):
        self.purged.extend(urls)

    def invalidates_hostname(self, hostname):
        return True
