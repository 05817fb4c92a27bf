"""The read collector: counts people once per article per 30 minutes, drops robots, keeps no addresses."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse

from masthead.trending.backends import get_backend, hour_of
from masthead.trending.models import ReadBucket
from masthead.trending.services import reader_keys
from masthead.trending.tests.conftest import DATABASE
from masthead.trending.views import beacon_signature

pytestmark = pytest.mark.django_db

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IP = "203.0.113.77"


@pytest.fixture(autouse=True)
def database_counter(settings):
    settings.MASTHEAD_TRENDING = DATABASE
    get_backend().clear()


def beacon(client, page_id=42, *, ua=BROWSER, ip=IP, signature=None, **extra):
    data = {"p": str(page_id), "s": beacon_signature(page_id) if signature is None else signature}
    return client.post(
        reverse("trending_collect"), data, HTTP_USER_AGENT=ua, REMOTE_ADDR=ip, **extra
    )


def counted() -> dict[int, int]:
    get_backend().flush()
    return dict(ReadBucket.objects.values_list("page_id", "count"))


def test_a_read_is_counted_and_answered_with_an_empty_204_without_cookies(client):
    response = beacon(client)
    assert response.status_code == 204
    assert response.content == b""
    assert not response.cookies
    assert response["Cache-Control"] == "no-store"
    assert counted() == {42: 1}


def test_a_visitor_counts_once_per_article_within_thirty_minutes(client):
    for _ in range(3):
        assert beacon(client).status_code == 204
    beacon(client, page_id=43)
    beacon(client, ua=BROWSER.replace("131", "130"))  # another browser behind the same address
    beacon(client, ip="198.51.100.1")
    assert counted() == {42: 3, 43: 1}


@pytest.mark.parametrize(
    "ua",
    [
        "",
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Mozilla/5.0 (Linux) Chrome-Lighthouse",
        "Mozilla/5.0 AppleWebKit (KHTML, like Gecko; compatible; Playwright)",
    ],
)
def test_robots_get_204_and_are_not_counted(client, ua):
    assert beacon(client, ua=ua).status_code == 204
    assert counted() == {}


@pytest.mark.parametrize(
    "page_id, signature",
    [(42, "0" * 16), (42, ""), ("abc", "x"), (0, None), (-3, None), (2**40, None)],
)
def test_made_up_or_unsigned_ids_are_not_counted(client, page_id, signature):
    assert beacon(client, page_id=page_id, signature=signature).status_code == 204
    assert counted() == {}


def test_a_beacon_from_another_site_is_not_counted(client):
    assert beacon(client, HTTP_SEC_FETCH_SITE="cross-site").status_code == 204
    assert beacon(client, ip="198.51.100.9", HTTP_SEC_FETCH_SITE="same-origin").status_code == 204
    assert counted() == {42: 1}


def test_only_post_is_accepted(client):
    assert client.get(reverse("trending_collect")).status_code == 405


def test_a_flood_from_one_address_is_rate_limited(client, settings):
    settings.MASTHEAD_TRENDING_RATE_LIMIT = 5
    statuses = [beacon(client, page_id=n).status_code for n in range(1, 9)]
    assert statuses == [204] * 5 + [429] * 3
    assert beacon(client, page_id=1, ip="198.51.100.2").status_code == 204
    assert sum(counted().values()) == 6


def test_the_address_is_taken_from_x_forwarded_for_only_behind_trusted_proxies(client, settings):
    beacon(client, HTTP_X_FORWARDED_FOR="198.51.100.5")
    beacon(client, HTTP_X_FORWARDED_FOR="198.51.100.6")
    assert counted() == {42: 1}  # the header is ignored: both come from IP
    settings.MASTHEAD_TRENDING_PROXY_COUNT = 1
    beacon(client, HTTP_X_FORWARDED_FOR="198.51.100.5")
    beacon(client, HTTP_X_FORWARDED_FOR="198.51.100.6, 10.0.0.1")  # 10.0.0.1 is the proxy's
    beacon(client, HTTP_X_FORWARDED_FOR="198.51.100.5")
    assert counted() == {42: 3}


def test_no_raw_address_or_user_agent_is_stored(client):
    beacon(client)
    stored = " ".join(str(key) for key in cache._cache)  # locmem's keys
    stored += " ".join(str(row) for row in ReadBucket.objects.values_list())
    assert IP not in stored
    assert "Chrome" not in stored


def test_the_visitor_hash_changes_with_the_day():
    day = dt.datetime(2026, 11, 25, 10, tzinfo=dt.UTC)
    same_day = reader_keys(ip=IP, user_agent=BROWSER, at=day + dt.timedelta(hours=5))
    assert reader_keys(ip=IP, user_agent=BROWSER, at=day) == same_day
    next_day = reader_keys(ip=IP, user_agent=BROWSER, at=day + dt.timedelta(days=1))
    assert next_day[0] != same_day[0] and next_day[1] != same_day[1]
    assert IP not in "".join(same_day)


def test_reads_land_in_the_current_hour(client):
    beacon(client)
    get_backend().flush()
    bucket = ReadBucket.objects.get()
    assert bucket.hour == hour_of(dt.datetime.now(dt.UTC))


def test_with_redis_down_the_collector_still_answers_204(client, settings):
    settings.MASTHEAD_TRENDING = {
        "BACKEND": "masthead.trending.backends.redis.RedisBackend",
        "OPTIONS": {"LOCATION": "redis://127.0.0.1:1/0"},
    }
    assert beacon(client).status_code == 204
    assert beacon(client, page_id=7).status_code == 204


def test_with_the_cache_down_too_the_collector_still_answers_204(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "masthead.pagecache.redis.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert beacon(client).status_code == 204
    assert beacon(client).status_code == 204
    assert counted() == {42: 1}  # the database backend tells repeats apart without the cache
