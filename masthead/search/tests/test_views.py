"""The results page, the typeahead endpoint and the header's search box."""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import timezone

from masthead.news import services
from masthead.news.tests.factories import AuthorFactory, section
from masthead.search.query import LONG_NOTICE

STATIC = Path(__file__).resolve().parents[2] / "static" / "masthead"


def story(title, body="A paragraph.", *, days_ago=1, section_name="Politics", tags=()):
    page, _ = services.article_save(
        section=section(section_name),
        title=title,
        body=services.body_from_paragraphs([body]),
        authors=[AuthorFactory()],
        tags=list(tags),
        published_at=timezone.now() - dt.timedelta(days=days_ago),
    )
    return page


pytestmark = pytest.mark.django_db


def test_results_page_is_noindex_and_highlights_escaped_text(client):
    story("Budget <b>row</b> at the council", "The budget was cut.")
    response = client.get("/search/", {"q": "budget"})
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"
    assert b'<meta name="robots" content="noindex">' in response.content
    assert b"<mark>Budget</mark> &lt;b&gt;row&lt;/b&gt; at the council" in response.content
    assert b"1 story" in response.content


def test_results_page_offers_did_you_mean(client):
    story("Ukraine grain exports rise", "Ships left Odesa.")
    response = client.get("/search/", {"q": "ukriane"})
    assert b"Did you mean" in response.content
    assert b'href="?q=ukraine"' in response.content
    assert b"<mark>Ukraine</mark> grain exports rise" in response.content


def test_empty_state_helps_with_tips_and_latest_stories(client):
    story("Harbour reopens", "Boats.")
    response = client.get("/search/", {"q": "xylophone"})
    content = response.content.decode()
    assert "No stories match “xylophone”" in content
    assert "Latest stories" in content and "Harbour reopens" in content


def test_filters_show_as_chips_that_remove_themselves(client):
    story("Budget row", "Budget.", section_name="City", tags=["Money"])
    response = client.get("/search/", {"q": "budget", "section": "city", "tag": "money"})
    content = response.content.decode()
    assert 'href="?q=budget&amp;tag=money"' in content  # removes the section only
    assert 'href="?q=budget&amp;section=city"' in content  # removes the tag only
    assert "Section: City" in content


def test_bad_filter_values_are_ignored(client):
    story("Budget row", "Budget.")
    response = client.get("/search/", {"q": "budget", "from": "yesterday", "section": "../etc"})
    assert response.status_code == 200
    assert b"<mark>Budget</mark> row" in response.content
    assert b"search-chips" not in response.content


def test_pagination_keeps_the_query_and_filters(client):
    for i in range(23):
        story(f"Budget story {i}", "Budget.", section_name="City")
    response = client.get("/search/", {"q": "budget", "section": "city", "page": "2"})
    content = response.content.decode()
    assert "Page 2 of 2" in content
    assert 'href="?q=budget&amp;section=city&amp;page=1"' in content
    assert client.get("/search/", {"q": "budget", "page": "nope"}).status_code == 200


def test_long_query_is_trimmed_with_a_notice(client):
    response = client.get("/search/", {"q": "budget " * 2000})
    assert response.status_code == 200
    assert LONG_NOTICE.encode() in response.content.replace(b"&#x27;", b"'")


def test_suggest_returns_json_for_the_typeahead(client):
    story("Zelensky meets leaders in Kyiv", "Talks.", section_name="World")
    response = client.get("/search/suggest/", {"q": "zelen"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    (result,) = data["results"]
    assert result["headline"] == "Zelensky meets leaders in Kyiv"
    assert result["section"] == "World"
    assert result["url"].startswith("/world/")
    assert result["published"] and result["thumbnail"] is None


def test_suggest_is_empty_for_one_letter_and_never_fails(client):
    assert json.loads(client.get("/search/suggest/", {"q": "z"}).content)["results"] == []
    assert client.get("/search/suggest/").status_code == 200
    assert client.post("/search/suggest/", {"q": "zel"}).status_code == 405


def test_header_box_is_a_plain_form_that_the_script_enhances(client):
    response = client.get("/search/", {"q": "anything"})
    content = response.content.decode()
    assert 'data-region="search"' in content
    assert 'action="/search/"' in content and 'name="q"' in content
    assert '<label for="site-search-q" class="visually-hidden">Type to Search</label>' in content
    assert 'data-typeahead="/search/suggest/"' in content
    assert "masthead/js/typeahead.js" in content and "defer" in content
    # Without the script nothing claims to be a combobox: the script adds the ARIA.
    assert 'role="combobox"' not in content


def test_typeahead_script_is_small_dependency_free_and_implements_the_combobox():
    script = (STATIC / "js" / "typeahead.js").read_text()
    assert len(script.encode()) < 10_000
    assert "import " not in script and "require(" not in script
    for needle in (
        '"combobox"',
        "aria-expanded",
        "aria-activedescendant",
        '"listbox"',
        '"option"',
        "ArrowDown",
        "Escape",
        "textContent",
    ):
        assert needle in script
    assert "innerHTML" not in script
