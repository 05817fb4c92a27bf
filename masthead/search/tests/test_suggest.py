"""The typeahead's values path: the same JSON as the page objects give, in one query."""

import datetime as dt

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from masthead.images.renditions import CARD, CARD_SMALL
from masthead.news import services
from masthead.news.models import ArticlePage
from masthead.news.tests.factories import AuthorFactory, NewsImageFactory, home, section
from masthead.search.selectors import (
    search_suggest,
    suggest,
    suggestions_from_pages,
    suggestions_from_pks,
)

pytestmark = pytest.mark.django_db


def story(title, *, section_name="World", image=None, days_ago=1):
    page, _ = services.article_save(
        section=section(section_name),
        title=title,
        body=services.body_from_paragraphs(["Talks went on."]),
        authors=[AuthorFactory()],
        featured_image=image,
        published_at=timezone.now() - dt.timedelta(days=days_ago),
    )
    return page


@pytest.fixture
def pictured_stories():
    """Return stories covering every thumbnail case: small card, card only, none made, no picture."""
    small = NewsImageFactory()
    small.get_rendition(CARD)
    small.get_rendition(CARD_SMALL)  # preferred over CARD
    card_only = NewsImageFactory()
    card_only.get_rendition(CARD)
    unrendered = NewsImageFactory()
    return [
        story("Harbour talks resume in Kyiv", image=small, section_name="World"),
        story("Harbour budget approved", image=card_only, section_name="City", days_ago=2),
        story("Harbour strike ends", image=unrendered, section_name="Business", days_ago=3),
        story("Harbour lights restored", section_name="City", days_ago=4),
    ]


def orm_suggestions(pks, request):
    """Return the typeahead dicts as the page-object path builds them, in ``pks`` order."""
    queryset = suggest._with_thumbnails(ArticlePage.objects.filter(pk__in=pks))
    pages = queryset.in_bulk(pks)
    return suggestions_from_pages([pages[pk] for pk in pks], request)


def test_values_path_gives_the_same_json_as_the_page_objects(pictured_stories):
    request = RequestFactory().get("/search/suggest/")
    pks = [page.pk for page in reversed(pictured_stories)]
    values = suggestions_from_pks(ArticlePage, pks, request)
    assert values == orm_suggestions(pks, request)
    by_headline = {item["headline"]: item for item in values}
    assert by_headline["Harbour talks resume in Kyiv"]["thumbnail"].endswith(".webp")
    assert "160" in by_headline["Harbour talks resume in Kyiv"]["thumbnail"]  # the small card
    assert by_headline["Harbour budget approved"]["thumbnail"]  # the card, made earlier
    assert by_headline["Harbour strike ends"]["thumbnail"] is None  # none made by a keystroke
    assert by_headline["Harbour lights restored"]["section"] == "City"
    assert [item["headline"] for item in values] == [p.title for p in reversed(pictured_stories)]


def test_typeahead_answers_as_the_page_object_path_would(pictured_stories, monkeypatch):
    request = RequestFactory().get("/search/suggest/")
    fast = search_suggest(text="harbo", root=home(), request=request)
    monkeypatch.setattr(suggest, "_routes_like_page", lambda model: False)
    slow = search_suggest(text="harbo", root=home(), request=RequestFactory().get("/"))
    assert len(fast) == 4
    assert fast == slow


def test_values_path_makes_no_rendition_and_skips_missing_pages(pictured_stories):
    from wagtail.images import get_image_model

    renditions = get_image_model().get_rendition_model().objects
    before = renditions.count()
    request = RequestFactory().get("/search/suggest/")
    pks = [pictured_stories[2].pk, 999_999]
    (only,) = suggestions_from_pks(ArticlePage, pks, request)
    assert only["headline"] == "Harbour strike ends" and only["thumbnail"] is None
    assert renditions.count() == before
    assert suggestions_from_pks(ArticlePage, [], request) == []


def test_values_path_reads_any_number_of_stories_in_one_query(pictured_stories):
    request = RequestFactory().get("/search/suggest/")
    suggestions_from_pks(ArticlePage, [pictured_stories[0].pk], request)  # site root paths cached
    counts = []
    for pks in ([pictured_stories[0].pk], [page.pk for page in pictured_stories]):
        with CaptureQueriesContext(connection) as queries:
            suggestions_from_pks(ArticlePage, pks, request)
        counts.append(len(queries))
    assert counts == [1, 1]


def test_typeahead_query_count_does_not_grow_with_the_stories(pictured_stories):
    def queries_for(text):
        request = RequestFactory().get("/search/suggest/")
        search_suggest(text=text, root=home(), request=request)  # warm caches (site, types)
        with CaptureQueriesContext(connection) as queries:
            results = search_suggest(text=text, root=home(), request=request)
        return len(results), len(queries)

    one = queries_for("kyiv")
    many = queries_for("harbour")
    assert one[0] == 1 and many[0] == 4
    assert one[1] == many[1]
