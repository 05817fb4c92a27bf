"""The trending score, its once-a-minute ranking, the Trending region, the beacon and Most read."""

import datetime as dt
import time
from unittest import mock

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import get_user_model
from django.utils import timezone

from masthead.news.models import ArticlePage
from masthead.news.tests.factories import publish_article, section
from masthead.trending import services
from masthead.trending.backends import get_backend, hour_of
from masthead.trending.selectors import most_read, trending_list
from masthead.trending.services import decayed_scores, trending_ranking_refresh
from masthead.trending.tests.conftest import DATABASE

NOW = dt.datetime(2026, 11, 25, 14, 30, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


# --- The score ------------------------------------------------------------------------------


def test_a_story_read_heavily_an_hour_ago_beats_one_read_as_heavily_yesterday():
    scores = decayed_scores(
        {1: {hour_of(NOW - 24 * H): 500}, 2: {hour_of(NOW - H): 500}}, now=NOW, half_life_hours=6
    )
    assert scores[2] > scores[1]


def test_a_read_one_half_life_old_counts_half():
    scores = decayed_scores({1: {hour_of(NOW - 6 * H): 100}}, now=NOW, half_life_hours=6)
    # The bucket 14:00-15:00 six hours back is aged from its middle, 08:30, to now, 14:30.
    assert scores[1] == pytest.approx(50)


def test_the_current_hour_counts_in_full():
    assert decayed_scores({1: {hour_of(NOW): 40}}, now=NOW, half_life_hours=6)[1] == pytest.approx(
        40 * 0.5 ** (0 / 6)
    )


@pytest.mark.parametrize(("half_life", "winner"), [(6, 2), (48, 1)])
def test_the_half_life_decides_between_old_and_fresh_reads(half_life, winner):
    hourly = {1: {hour_of(NOW - 20 * H): 100}, 2: {hour_of(NOW): 30}}
    scores = decayed_scores(hourly, now=NOW, half_life_hours=half_life)
    assert max(scores, key=scores.get) == winner


def test_a_half_life_of_zero_is_refused():
    with pytest.raises(ValueError):
        decayed_scores({}, now=NOW, half_life_hours=0)


# --- The ranking: recomputed at most once a minute ------------------------------------------


@pytest.fixture
def counter(settings, db):
    settings.MASTHEAD_TRENDING = DATABASE
    backend = get_backend()
    backend.clear()
    services.trending_ranking_forget()
    yield backend
    services.trending_ranking_forget()


def test_reads_older_than_48_hours_do_not_count(counter):
    now = timezone.now()
    counter.add_reads({(1, hour_of(now - 50 * H)): 1000, (2, hour_of(now)): 1})
    assert services.trending_ranking_compute(now=now) == [2]


def test_the_ranking_is_recomputed_at_most_once_a_minute(counter):
    now = timezone.now()
    counter.add_reads({(1, hour_of(now)): 5})
    assert trending_ranking_refresh() == [1]
    counter.add_reads({(2, hour_of(now)): 50})
    with mock.patch.object(services, "trending_ranking_compute") as compute:
        for _ in range(20):
            assert trending_ranking_refresh() == [1]
        compute.assert_not_called()
    later = time.time() + services.REFRESH_SECONDS + 1
    with mock.patch("masthead.trending.services.time.time", return_value=later):
        assert trending_ranking_refresh() == [2, 1]


def test_while_one_process_recomputes_the_others_keep_the_last_ranking(counter):
    from django.core.cache import cache

    counter.add_reads({(1, hour_of(timezone.now())): 5})
    assert trending_ranking_refresh() == [1]
    counter.add_reads({(2, hour_of(timezone.now())): 50})
    cache.add(services.RANKING_LOCK_KEY, 1, 300)  # another process holds the lock
    later = time.time() + services.REFRESH_SECONDS + 1
    with mock.patch("masthead.trending.services.time.time", return_value=later):
        assert trending_ranking_refresh() == [1]


def test_with_the_counter_store_down_the_last_ranking_is_kept(counter, settings):
    counter.add_reads({(1, hour_of(timezone.now())): 5})
    assert trending_ranking_refresh() == [1]
    settings.MASTHEAD_TRENDING = {
        "BACKEND": "masthead.trending.backends.redis.RedisBackend",
        "OPTIONS": {"LOCATION": "redis://127.0.0.1:1/0"},
    }
    later = time.time() + services.REFRESH_SECONDS + 1
    with mock.patch("masthead.trending.services.time.time", return_value=later):
        assert trending_ranking_refresh() == [1]


# --- The Trending region --------------------------------------------------------------------


@pytest.fixture
def stories(counter):
    politics = section("Politics")
    return [publish_article(section_page=politics, title=f"Story {i}") for i in range(6)]


def test_trending_list_orders_by_score_and_fills_with_recent_stories(counter, stories):
    now = timezone.now()
    counter.add_reads({(stories[0].pk, hour_of(now)): 3, (stories[2].pk, hour_of(now)): 9})
    result = trending_list(candidates=ArticlePage.objects.for_links(), limit=4)
    assert [p.pk for p in result[:2]] == [stories[2].pk, stories[0].pk]
    newest_others = [
        p.pk
        for p in ArticlePage.objects.for_links().exclude(pk__in=[stories[0].pk, stories[2].pk])[:2]
    ]
    assert [p.pk for p in result[2:]] == newest_others


def test_trending_list_leaves_out_what_the_candidates_leave_out(counter, stories):
    now = timezone.now()
    counter.add_reads({(stories[0].pk, hour_of(now)): 3, (stories[2].pk, hour_of(now)): 9})
    candidates = ArticlePage.objects.for_links().exclude(pk=stories[2].pk)
    assert trending_list(candidates=candidates, limit=1)[0].pk == stories[0].pk


def test_without_reads_trending_shows_the_newest_stories(counter, stories):
    result = trending_list(candidates=ArticlePage.objects.for_links(), limit=3)
    assert [p.pk for p in result] == [p.pk for p in ArticlePage.objects.for_links()[:3]]


def test_the_article_page_trending_region_shows_the_most_read_story_first(client, counter, stories):
    counter.add_reads({(stories[4].pk, hour_of(timezone.now())): 20})
    html = client.get(stories[0].url).content.decode()
    region = BeautifulSoup(html, "html.parser").select_one('[data-region="trending"]')
    assert region.find("a").get_text(strip=True) == "Story 4"


# --- The beacon -----------------------------------------------------------------------------


def beacon_script(html: str):
    scripts = [
        s for s in BeautifulSoup(html, "html.parser").find_all("script") if "sendBeacon" in s.text
    ]
    return scripts[0] if scripts else None


def test_the_article_page_carries_a_beacon_under_1_kb(client, counter, stories):
    from masthead.trending.views import beacon_signature

    script = beacon_script(client.get(stories[1].url).content.decode())
    assert script is not None
    assert len(str(script).encode()) < 1024
    assert "visibilityState" in script.text and "visibilitychange" in script.text
    assert f'p:"{stories[1].pk}"' in script.text
    assert f's:"{beacon_signature(stories[1].pk)}"' in script.text
    assert "/-/read" in script.text


def test_the_beacon_posts_what_the_collector_counts(client, counter, stories):
    from masthead.trending.views import beacon_signature

    response = client.post(
        "/-/read",
        {"p": stories[1].pk, "s": beacon_signature(stories[1].pk)},
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    )
    assert response.status_code == 204
    counter.flush()
    assert counter.totals(since=timezone.now() - H, until=timezone.now() + H, limit=1) == [
        (stories[1].pk, 1)
    ]


def test_the_front_page_has_no_beacon(client, counter, stories):
    assert beacon_script(client.get("/").content.decode()) is None


def test_newsroom_users_reading_a_story_are_not_counted(client, counter, stories):
    user = get_user_model().objects.create_superuser("ed", "ed@example.com", "pw-12345678")
    client.force_login(user)
    assert beacon_script(client.get(stories[1].url).content.decode()) is None


# --- Most read ------------------------------------------------------------------------------


def test_most_read_counts_whole_hours_back_to_the_window_start(counter):
    counter.add_reads(
        {
            (1, hour_of(NOW)): 4,
            (1, hour_of(NOW - H)): 3,
            (1, hour_of(NOW - 2 * H)): 100,
            (2, hour_of(NOW - 5 * H)): 10,
        }
    )
    result = most_read(window=H, limit=5, chart_hours=24, now=NOW)
    assert [(r.page_id, r.reads) for r in result.rows] == [(1, 7)]
    assert len(result.hours) == 24 and result.hours[-1] == hour_of(NOW)
    assert result.rows[0].hourly[-3:] == [100, 3, 4]
    assert result.per_hour[-6] == 10
    assert result.total == 7  # the window's reads, not the whole chart's
    day = most_read(window=24 * H, limit=5, chart_hours=24, now=NOW)
    assert [(r.page_id, r.reads) for r in day.rows] == [(1, 107), (2, 10)]


@pytest.fixture
def editor(client, db):
    user = get_user_model().objects.create_superuser("ed", "ed@example.com", "pw-12345678")
    client.force_login(user)
    return user


@pytest.mark.parametrize("window", ["hour", "day", "week", "nonsense"])
def test_the_most_read_page_lists_stories_with_counts_and_hourly_charts(
    client, editor, counter, stories, window
):
    now = timezone.now()
    counter.add_reads({(stories[3].pk, hour_of(now)): 12, (stories[1].pk, hour_of(now)): 5})
    response = client.get("/newsroom/reports/most-read/", {"window": window})
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    rows = soup.select("table.most-read tbody tr")
    assert [r.find_all("td")[1].a.get_text(strip=True) for r in rows] == ["Story 3", "Story 1"]
    assert [r.find_all("td")[2].get_text(strip=True) for r in rows] == ["12", "5"]
    assert rows[0].find("svg").find_all("rect")
    current = soup.select_one('a[aria-current="page"]')
    assert current["href"] == f"?window={window if window != 'nonsense' else 'day'}"


def test_the_most_read_page_is_in_the_reports_menu_and_needs_a_login(client, editor, counter):
    assert b"/newsroom/reports/most-read/" in client.get("/newsroom/").content
    client.logout()
    response = client.get("/newsroom/reports/most-read/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_most_read_page_says_when_the_counter_is_down(client, editor, settings):
    settings.MASTHEAD_TRENDING = {
        "BACKEND": "masthead.trending.backends.redis.RedisBackend",
        "OPTIONS": {"LOCATION": "redis://127.0.0.1:1/0"},
    }
    response = client.get("/newsroom/reports/most-read/")
    assert response.status_code == 200
    assert b"unavailable" in response.content
