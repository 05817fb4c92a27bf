"""What a search keeps between requests: querysets and their SQL, never results."""

import datetime as dt

import pytest
from django.db.models.signals import post_init
from django.db.models.sql.query import Query
from django.utils import timezone
from wagtail.models import Page

from masthead.news import services
from masthead.news.models import ArticlePage
from masthead.news.tests.factories import AuthorFactory, home, section
from masthead.search.backends.base import RankedResultsMixin
from masthead.search.backends.indexing import row_builder
from masthead.search.query import parse
from masthead.search.selectors import search_page
from masthead.search.selectors.querysets import (
    PATH_END,
    SearchFilters,
    descendant_q,
    search_querysets,
)
from masthead.search.selectors.results import load_pages

pytestmark = pytest.mark.django_db


def story(title, *, section_name="World"):
    page, _ = services.article_save(
        section=section(section_name),
        title=title,
        body=services.body_from_paragraphs(["A paragraph about the harbour."]),
        authors=[AuthorFactory()],
        published_at=timezone.now() - dt.timedelta(days=1),
    )
    return page


def test_same_site_and_filters_reuse_the_querysets():
    story("Harbour reopens")
    root = home()
    sections = list(root.sections)
    first = search_querysets(root=root, filters=SearchFilters(), sections=sections)
    assert search_querysets(root=root, filters=SearchFilters(), sections=sections) is first
    by_section = search_querysets(
        root=root, filters=SearchFilters(section="world"), sections=sections
    )
    assert by_section is not first
    assert by_section.filtered.count() == 1
    assert (
        search_querysets(
            root=root, filters=SearchFilters(section="none"), sections=sections
        ).filtered.count()
        == 0
    )


def test_descendant_q_selects_what_wagtails_descendant_of_does():
    world = story("Harbour reopens").get_parent()
    story("Markets rally", section_name="Business")
    story("Ferry strike ends")
    root = home()
    assert all(char < PATH_END for char in Page.alphabet)
    for page in [root, world, world.get_children().first(), Page.objects.get(depth=1)]:
        expected = set(Page.objects.descendant_of(page).values_list("pk", flat=True))
        got = set(Page.objects.filter(descendant_q(page)).values_list("pk", flat=True))
        assert got == expected, page
    # Not a prefix test by accident: the sections are each other's neighbours, not descendants.
    assert not Page.objects.filter(descendant_q(world), title="Markets rally").exists()
    assert Page.objects.filter(descendant_q(root), title="Markets rally").exists()


def test_a_repeated_search_compiles_no_article_queryset(monkeypatch):
    story("Harbour reopens")
    assert [h.page.title for h in search_page(text="harbour", root=home()).hits] == [
        "Harbour reopens"
    ]
    compiled = []
    original = Query.sql_with_params
    monkeypatch.setattr(
        Query, "sql_with_params", lambda self: compiled.append(self.model) or original(self)
    )
    outcome = search_page(text="harbour", root=home())
    assert [h.page.title for h in outcome.hits] == ["Harbour reopens"]
    assert ArticlePage not in compiled


def test_a_reused_queryset_is_checked_once_and_a_bad_filter_still_fails(monkeypatch):
    from modelsearch.backends.base import BaseSearchQueryCompiler, FilterFieldError

    from masthead.search.backends import get_backend

    story("Harbour reopens")
    search_page(text="harbour", root=home())
    checks = []
    original = BaseSearchQueryCompiler.check
    monkeypatch.setattr(
        BaseSearchQueryCompiler, "check", lambda self: checks.append(1) or original(self)
    )
    assert search_page(text="harbour", root=home()).count == 1
    assert checks == []  # the reused queryset was proven when first searched
    query = parse("harbour").to_search_query()
    for _ in range(2):  # a new queryset is checked, each time, and an unindexed filter fails
        with pytest.raises(FilterFieldError):
            get_backend().search(query, ArticlePage.objects.filter(slug="x"))
    assert len(checks) == 2


def test_a_new_story_is_found_by_the_reused_querysets(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        story("Harbour reopens")
    assert search_page(text="harbour", root=home()).count == 1
    with django_capture_on_commit_callbacks(execute=True):
        story("Harbour fees rise")
    assert search_page(text="harbour", root=home()).count == 2  # results are never kept


def test_loaded_hits_are_light_pages_whose_other_fields_load_on_access():
    page = story("Harbour reopens")
    [hit] = load_pages(ArticlePage, [page.pk])
    assert type(hit) is ArticlePage and hit.pk == page.pk and hit.title == "Harbour reopens"
    assert not hit._state.adding and hit._state.db == "default"
    assert "slug" not in hit.__dict__ and hit.slug == page.slug  # deferred, read on access
    assert hit.first_published_at == page.first_published_at
    assert hit.url == page.url


def test_rows_go_through_the_constructor_when_something_listens_to_it():
    page = story("Harbour reopens")
    names = ["id", "title", "page_ptr_id"]
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance)

    build = row_builder(ArticlePage, names, "default")
    quiet = build([page.pk, "Harbour reopens", page.pk])
    assert quiet.title == "Harbour reopens" and seen == []
    post_init.connect(listener, sender=ArticlePage)
    try:
        built = row_builder(ArticlePage, names, "default")([page.pk, "Harbour", page.pk])
    finally:
        post_init.disconnect(listener, sender=ArticlePage)
    assert seen == [built] and built.title == "Harbour" and built.slug == page.slug


def test_matches_join_the_page_table_alone_and_still_only_find_the_search_model():
    from modelsearch.conf import get_app_config

    from masthead.search.backends.base import joined_queryset_sql

    story("Harbour reopens", section_name="Harbour")  # a section page titled Harbour too
    entries = get_app_config().get_model("IndexEntry").objects.filter(title__icontains="harbour")
    assert entries.values("content_type").distinct().count() == 2  # the section is indexed
    querysets = search_querysets(root=home(), filters=SearchFilters(), sections=[])
    for queryset, by_relevance in ((querysets.shown, True), (querysets.newest, False)):
        sql = joined_queryset_sql(object(), queryset, by_relevance)[0]
        assert ArticlePage._meta.db_table not in sql
    outcome = search_page(text="harbour", root=home())
    assert [type(h.page) for h in outcome.hits] == [ArticlePage] and outcome.count == 1
    newest = search_page(text="harbour", root=home(), order="newest")
    assert [h.page.title for h in newest.hits] == ["Harbour reopens"]


@pytest.mark.parametrize("page_number", [1, 2, 3, 99, "x", -1])
def test_a_page_ranked_while_counting_is_the_page_counted_apart(page_number, monkeypatch):
    for i in range(7):
        story(f"Harbour story {i}")
    planned = search_page(text="harbour", root=home(), page_number=page_number, per_page=3)
    monkeypatch.setattr(RankedResultsMixin, "plan_page", None, raising=False)
    apart = search_page(text="harbour", root=home(), page_number=page_number, per_page=3)
    assert planned.count == apart.count == 7
    assert planned.page.number == apart.page.number
    assert [h.page.pk for h in planned.hits] == [h.page.pk for h in apart.hits]
    assert planned.hits


def test_a_results_page_ranks_and_counts_in_one_statement():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(3):
        story(f"Harbour story {i}")
    search_page(text="harbour", root=home())
    with CaptureQueriesContext(connection) as captured:
        outcome = search_page(text="harbour", root=home())
    assert outcome.count == 3 and len(outcome.hits) == 3
    ranking = [q["sql"] for q in captured.captured_queries if "COUNT(*)" in q["sql"]]
    if connection.vendor == "sqlite":
        assert len(ranking) == 1 and "ORDER BY score DESC" in ranking[0]
    assert search_page(text="xylophone", root=home()).count == 0


@pytest.mark.django_db
def test_loaded_dates_are_the_dates_django_reads():
    from django.db import connection

    from masthead.search.selectors.results import datetime_converter

    stories = [
        services.article_save(
            section=section("Politics"),
            title=f"Dated story {i}",
            body=services.body_from_paragraphs(["Text."]),
            authors=[AuthorFactory()],
            published_at=timezone.now() - dt.timedelta(days=i, microseconds=i * 7),
        )[0]
        for i in range(3)
    ]
    loaded = load_pages(ArticlePage, [s.pk for s in stories])
    expected = [ArticlePage.objects.get(pk=s.pk).first_published_at for s in stories]
    assert [p.first_published_at for p in loaded] == expected
    assert all(p.first_published_at.utcoffset() == dt.timedelta(0) for p in loaded)
    convert = datetime_converter(connection)
    assert convert(None) is None
    assert convert(expected[0]) == expected[0]  # already a datetime, already aware
