"""The reader pages' listing queries read indexes, whatever the archive's size (SQLite plans).

SQLite plans these queries the same way on a test database as on a
100,000-article one (no ANALYZE statistics either way), so a plan that sorts
or scans the whole page table here does so on a big site too, at hundreds of
milliseconds per view.
"""

import pytest
from django.db import connection

from masthead.news.models.pages import sidebar_context
from masthead.news.tests.factories import home, publish_article, section

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite query plans"),
]


def plans_of(call, table: str) -> tuple[object, list[list[str]]]:
    """Run ``call``; return its result and the plans of its SELECTs from ``table``.

    Each statement is explained with the parameters it was run with (bound,
    not written into the SQL): an expression index matches only literal SQL.
    """
    statements = []

    def record(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        result = call()
    plans = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            if sql.startswith("SELECT") and f'FROM "{table}"' in sql:
                rows = cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
                plans.append([row[3] for row in rows])
    return result, plans


def test_newest_articles_come_through_the_date_index_without_sorting_the_archive():
    article = publish_article()
    newer = publish_article(title="A newer story")
    context, plans = plans_of(lambda: sidebar_context(exclude_ids=[article.pk]), "news_articlepage")
    assert context["recent"][0].pk == newer.pk
    assert plans
    for steps in plans:
        assert any("first_published_at" in step for step in steps), steps
        assert not any("TEMP B-TREE FOR ORDER BY" in step for step in steps), steps


def test_front_page_sections_start_from_the_section_rows_not_the_page_table():
    section("Politics")
    section("Business")
    front = home()
    sections, plans = plans_of(lambda: front.sections, "news_sectionpage")
    assert [s.title for s in sections] == ["Politics", "Business"]
    (steps,) = plans
    assert not any(step.startswith("SCAN wagtailcore_page") for step in steps), steps


def test_a_sections_newest_stories_come_through_the_section_date_index(client, settings):
    settings.MASTHEAD_PAGE_CACHE = False
    politics = section("Politics")
    publish_article(title="Vote tonight", section_page=politics)
    _, plans = plans_of(lambda: client.get(politics.url), "news_articlepage")
    listing = [steps for steps in plans if any("news_page_section_date" in s for s in steps)]
    assert listing, plans
    _, plans = plans_of(lambda: client.get("/"), "news_articlepage")
    assert any("news_page_section_date" in step for steps in plans for step in steps), plans
