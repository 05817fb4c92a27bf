"""Corrections and updates: dated notes on a published article, and the dateModified they set."""

import datetime as dt

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from masthead.news.models import ArticleNote, ArticlePage
from masthead.news.tests.factories import publish_article

NOTED_AT = dt.datetime(2026, 11, 25, 14, 5, tzinfo=dt.UTC)


def add_note(article, text, *, kind=ArticleNote.CORRECTION, noted_at=NOTED_AT):
    """Add a note as the newsroom does (on the draft) and publish; return the fresh article."""
    page = article.get_latest_revision_as_object()
    page.notes.add(ArticleNote(kind=kind, text=text, noted_at=noted_at))
    page.save_revision().publish()
    return ArticlePage.objects.get(pk=article.pk)


def notes_text(client, url) -> str:
    """Return the text of the article's corrections region ('' when it has none)."""
    soup = BeautifulSoup(client.get(url).content, "html.parser")
    region = soup.find(attrs={"data-region": "corrections"})
    return " ".join(region.get_text().split()) if region else ""


@pytest.fixture
def no_page_cache(settings):
    settings.MASTHEAD_PAGE_CACHE = False


@pytest.mark.django_db
def test_correction_is_shown_on_the_article(client, no_page_cache):
    article = publish_article(published_at=NOTED_AT - dt.timedelta(days=1))
    article = add_note(article, "An earlier version misspelled the mayor's name.")
    text = notes_text(client, article.url)
    assert "Correction, 25 Nov 2026, 14:05: An earlier version misspelled the mayor's name." in text


@pytest.mark.django_db
def test_notes_are_listed_oldest_first_with_their_kind(client, no_page_cache):
    article = publish_article(published_at=NOTED_AT - dt.timedelta(days=1))
    article = add_note(
        article, "Second", kind=ArticleNote.UPDATE, noted_at=NOTED_AT + dt.timedelta(hours=2)
    )
    article = add_note(article, "First", noted_at=NOTED_AT)
    text = notes_text(client, article.url)
    assert text.index("Correction, 25 Nov 2026, 14:05: First") < text.index(
        "Update, 25 Nov 2026, 16:05: Second"
    )


@pytest.mark.django_db
def test_a_note_moves_date_modified_and_a_silent_fix_does_not():
    published = timezone.now() - dt.timedelta(days=2)
    article = publish_article(published_at=published)
    first = article.date_modified()
    assert first == article.first_published_at

    # A typo fix without a note: republished, but dateModified stays.
    page = article.get_latest_revision_as_object()
    page.title = page.title + " (typo fixed)"
    page.save_revision().publish()
    article = ArticlePage.objects.get(pk=article.pk)
    assert article.last_published_at > first
    assert article.date_modified() == first

    noted = timezone.now() - dt.timedelta(hours=1)
    article = add_note(
        article, "Updated with the council's response.", kind="update", noted_at=noted
    )
    assert article.date_modified() == noted
    assert article.last_noted_at == noted


@pytest.mark.django_db
def test_a_draft_note_changes_nothing_until_published():
    article = publish_article(published_at=timezone.now() - dt.timedelta(days=1))
    before = article.date_modified()
    page = article.get_latest_revision_as_object()
    page.notes.add(ArticleNote(text="Not yet", noted_at=timezone.now()))
    page.save_revision()
    article = ArticlePage.objects.get(pk=article.pk)
    assert article.date_modified() == before
    assert not article.notes.exists()


@pytest.mark.django_db
def test_feed_and_structured_data_use_the_note_date(client, no_page_cache):
    article = publish_article(published_at=NOTED_AT - dt.timedelta(days=1))
    article = add_note(article, "Corrected the turnout figure.")
    html = client.get(article.url).content.decode()
    assert '"dateModified": "2026-11-25T14:05:00+00:00"' in html or (
        "2026-11-25T14:05:00" in html and "dateModified" in html
    )
    feed = client.get("/feed/atom/").content.decode()
    assert "<updated>2026-11-25T14:05:00" in feed


@pytest.mark.django_db
def test_notes_cost_one_query_whatever_their_number(client, no_page_cache):
    plain = publish_article()
    noted = publish_article()
    for i in range(4):
        noted = add_note(noted, f"Note {i}", noted_at=NOTED_AT + dt.timedelta(minutes=i))

    def count(url):
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    assert count(noted.url) == count(plain.url)
