"""The page cache's contract with readers, editors and CDNs: hits, bypasses, headers, 304s."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from masthead.news.tests.factories import publish_article
from masthead.pagecache.middleware import STATUS_HEADER, PageCacheMiddleware

pytestmark = pytest.mark.django_db


@pytest.fixture
def article():
    return publish_article(title="Cached story about the harbour")


def test_second_anonymous_request_is_served_from_the_cache_without_queries(client, article):
    first = client.get(article.url)
    assert first.status_code == 200
    assert first[STATUS_HEADER] == "miss"
    with CaptureQueriesContext(connection) as queries:
        second = client.get(article.url)
    assert second[STATUS_HEADER] == "hit"
    assert second.content == first.content
    assert len(queries) == 0


def test_cached_responses_carry_cdn_cache_control_etag_and_last_modified(client, article):
    for expected in ("miss", "hit"):
        response = client.get(article.url)
        assert response[STATUS_HEADER] == expected
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"public", "max-age=60", "s-maxage=300", "stale-while-revalidate=60"} <= directives
        assert response["ETag"].startswith('"') and len(response["ETag"]) > 10
        assert response["Last-Modified"].endswith("GMT")


def test_cache_control_follows_the_settings(client, article, settings):
    settings.MASTHEAD_PAGE_CACHE_S_MAXAGE = 900
    settings.MASTHEAD_PAGE_CACHE_STALE_WHILE_REVALIDATE = 30
    response = client.get(article.url)
    assert "s-maxage=900" in response["Cache-Control"]
    assert "stale-while-revalidate=30" in response["Cache-Control"]


@pytest.mark.parametrize("warm", [False, True], ids=["on-a-miss", "on-a-hit"])
def test_conditional_requests_get_304(client, article, warm):
    first = client.get(article.url)
    if warm:
        client.get(article.url)
    by_etag = client.get(article.url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    by_date = client.get(article.url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert by_date.status_code == 304
    other = client.get(article.url, HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200


def test_an_old_etag_gets_the_new_page_after_an_edit(
    client, article, django_capture_on_commit_callbacks
):
    old = client.get(article.url)
    article.title = "Harbour story, corrected"
    with django_capture_on_commit_callbacks(execute=True):
        article.save_revision().publish()
    response = client.get(article.url, HTTP_IF_NONE_MATCH=old["ETag"])
    assert response.status_code == 200
    assert b"Harbour story, corrected" in response.content


def test_head_is_answered_from_the_cache_without_a_body(client, article):
    get = client.get(article.url)
    head = client.head(article.url)
    assert head[STATUS_HEADER] == "hit"
    assert head.content == b""
    assert head["Content-Length"] == str(len(get.content))


def test_signed_in_staff_bypass_the_cache_and_get_private_pages(client, article):
    client.get(article.url)  # an anonymous reader fills the cache
    user = get_user_model().objects.create_superuser("editor", "e@example.com", "pw-12345678")
    client.force_login(user)
    response = client.get(article.url)
    assert response[STATUS_HEADER] == "bypass"
    assert "private" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def test_a_page_rendered_for_staff_is_never_stored(client, article):
    user = get_user_model().objects.create_superuser("editor", "e@example.com", "pw-12345678")
    client.force_login(user)
    client.get(article.url)
    client.logout()
    client.cookies.clear()
    assert client.get(article.url)[STATUS_HEADER] == "miss"


def _middleware(view):
    return PageCacheMiddleware(view)


def test_a_preview_is_never_stored():
    calls = []

    def preview(request):
        calls.append(1)
        request.is_preview = True
        return HttpResponse("draft text")

    middleware = _middleware(preview)
    for _ in range(2):
        response = middleware(RequestFactory().get("/some-page/"))
        assert response.content == b"draft text"
    assert len(calls) == 2


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(HttpResponse("x", status=404), id="not-found"),
        pytest.param(HttpResponse("x", status=302), id="redirect"),
        pytest.param(HttpResponse("x", headers={"Cache-Control": "private"}), id="private"),
        pytest.param(HttpResponse("x", headers={"Cache-Control": "no-store"}), id="no-store"),
        pytest.param(HttpResponse("x", headers={"Vary": "Accept-Language"}), id="varies"),
    ],
)
def test_responses_that_are_not_for_everyone_are_not_stored(response):
    calls = []

    def view(request):
        calls.append(1)
        return response

    middleware = _middleware(view)
    middleware(RequestFactory().get("/x/"))
    middleware(RequestFactory().get("/x/"))
    assert len(calls) == 2


def test_a_response_that_sets_a_cookie_is_not_stored():
    calls = []

    def view(request):
        calls.append(1)
        response = HttpResponse("x")
        response.set_cookie("csrftoken", "abc")
        return response

    middleware = _middleware(view)
    middleware(RequestFactory().get("/x/"))
    middleware(RequestFactory().get("/x/"))
    assert len(calls) == 2


def test_pages_of_a_listing_are_cached_apart_and_unknown_parameters_are_not_cached(client):
    first = client.get("/", {"page": "2"})
    assert first[STATUS_HEADER] == "miss"
    assert client.get("/", {"page": "2"})[STATUS_HEADER] == "hit"
    assert client.get("/")[STATUS_HEADER] == "miss"
    tracked = client.get("/", {"utm_source": "newsletter"})
    assert tracked.status_code == 200
    assert STATUS_HEADER not in tracked
    assert STATUS_HEADER not in client.get("/", {"utm_source": "newsletter"})


@pytest.mark.parametrize("path", ["/newsroom/", "/newsroom/login/", "/-/read"])
def test_the_newsroom_and_the_collector_are_never_cached(client, path):
    client.get(path)
    assert STATUS_HEADER not in client.get(path)


def test_the_setting_turns_the_cache_off(client, article, settings):
    settings.MASTHEAD_PAGE_CACHE = False
    client.get(article.url)
    assert STATUS_HEADER not in client.get(article.url)


def test_a_failing_cache_means_a_rendered_page_not_an_error(client, article, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache is down")

    monkeypatch.setattr("masthead.pagecache.middleware.content_version_get", broken)
    response = client.get(article.url)
    assert response.status_code == 200
    assert b"Cached story about the harbour" in response.content
    assert response[STATUS_HEADER] == "error"
