"""Related news: ranking rules, editor picks and blocks, incremental updates, the article page."""

import datetime as dt

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from masthead.related import services
from masthead.related.backends import InvalidRelatedBackendError, get_backend
from masthead.related.backends.base import KEEP, days_apart_text
from masthead.related.models import RelatedDocument, RelatedLink
from masthead.related.panels import pin_or_block
from masthead.related.selectors import AUTO_ALSO_READ_AFTER, related_for_page

NOW = timezone.now().replace(microsecond=0)

# Four developing stories, three or four articles each, plus one unrelated piece.
STORIES = {
    "quake": [
        (
            "Earthquake strikes Northbridge harbour district",
            "A magnitude 5.8 earthquake shook the Northbridge harbour district on Monday. "
            "Mayor Helen Okafor said rescue teams from Wend Valley were searching damaged "
            "warehouses near the harbour.",
        ),
        (
            "Rescue teams search harbour warehouses after earthquake",
            "Rescue teams from Wend Valley kept searching harbour warehouses in Northbridge "
            "after the earthquake. Helen Okafor thanked volunteers.",
        ),
        (
            "Harbour earthquake: insurers count the cost",
            "Insurers said the Northbridge earthquake damaged dozens of harbour warehouses. "
            "Mayor Helen Okafor asked for emergency funds.",
        ),
        (
            "Northbridge harbour reopens a week after earthquake",
            "The Northbridge harbour reopened to ships, a week after the earthquake damaged its "
            "warehouses. Helen Okafor visited the quay.",
        ),
    ],
    "strike": [
        (
            "Tram drivers vote to strike over pay",
            "Tram drivers at Courier Transit voted to strike over pay. The union leader "
            "Marcus Bellweather said talks with the transit board had failed.",
        ),
        (
            "Tram strike halts city services",
            "No trams ran on Tuesday as drivers began their strike. Marcus Bellweather said "
            "the union would picket the Courier Transit depot.",
        ),
        (
            "Courier Transit makes new pay offer to tram drivers",
            "Courier Transit offered tram drivers a new pay deal. Marcus Bellweather said the "
            "union would put the offer to a vote.",
        ),
    ],
    "festival": [
        (
            "Lantern festival returns to Old Mill Square",
            "The lantern festival returns to Old Mill Square this weekend with music and "
            "paper lanterns. Organiser Priya Castellano expects record crowds.",
        ),
        (
            "Record crowds at Old Mill Square lantern festival",
            "Record crowds filled Old Mill Square for the lantern festival, organiser Priya "
            "Castellano said, as paper lanterns lit the river.",
        ),
        (
            "Lantern festival clean-up praised",
            "Volunteers cleared Old Mill Square after the lantern festival. Priya Castellano "
            "praised the clean-up crews.",
        ),
    ],
    "cricket": [
        (
            "Northbridge Cricket Club wins county final",
            "Northbridge Cricket Club won the county final at Brampton Oval. Captain Ollie "
            "Pemberton scored a century.",
        ),
        (
            "Pemberton century seals county title",
            "Ollie Pemberton's century sealed the county title for Northbridge Cricket Club "
            "at Brampton Oval.",
        ),
        (
            "Northbridge Cricket Club parade trophy",
            "Northbridge Cricket Club paraded the county trophy through town. Ollie Pemberton "
            "lifted the cup at Brampton Oval.",
        ),
    ],
}


@pytest.fixture
def news():
    """Return the news test helpers (imported here: the related app imports no page model)."""
    from masthead.news.tests import factories

    return factories


def _publish(news, section, title, text, *, days_ago=0.0, tags=()):
    return news.publish_article(
        section_page=section,
        title=title,
        paragraphs=[s.strip() + "." for s in text.split(". ") if s.strip()],
        tags=list(tags),
        published_at=NOW - dt.timedelta(days=days_ago),
    )


@pytest.fixture
def corpus(db, news):
    """The four stories published a day apart, in two sections, indexed with a full rebuild."""
    city, sport = news.section("City"), news.section("Sport")
    pages = {}
    for cluster, items in STORIES.items():
        section = sport if cluster == "cricket" else city
        pages[cluster] = [
            _publish(news, section, title, text, days_ago=len(items) - i)
            for i, (title, text) in enumerate(items)
        ]
    services.related_rebuild()
    return pages


def cluster_of(corpus: dict) -> dict[int, str]:
    return {page.pk: name for name, pages in corpus.items() for page in pages}


def stored(page_id: int) -> list[tuple[int, float]]:
    return [
        (link.target_id, round(link.score, 12))
        for link in RelatedLink.objects.computed()
        .filter(computed_for_id=page_id)
        .order_by("-score", "target_id")
    ]


def snapshot() -> dict[int, list]:
    owners = RelatedLink.objects.computed().values_list("computed_for_id", flat=True).distinct()
    return {owner: stored(owner) for owner in sorted(set(owners))}


# --- Ranking rules --------------------------------------------------------------------------


@pytest.mark.django_db
def test_suggestions_come_from_the_same_story(corpus):
    clusters = cluster_of(corpus)
    for page_id, cluster in clusters.items():
        top = stored(page_id)[:2]
        assert top, f"no suggestions for {cluster}"
        assert all(clusters[target] == cluster for target, _ in top), (cluster, top)


@pytest.mark.django_db
def test_a_page_is_never_its_own_suggestion(corpus):
    assert not RelatedLink.objects.computed().filter(computed_for_id=models_f("target_id")).exists()


def models_f(name):
    from django.db.models import F

    return F(name)


@pytest.mark.django_db
def test_unpublished_article_is_removed_from_every_list(corpus, django_capture_on_commit_callbacks):
    gone = corpus["quake"][1]
    assert RelatedLink.objects.computed().filter(target=gone).exists()
    with django_capture_on_commit_callbacks(execute=True):
        gone.unpublish()
    assert not RelatedLink.objects.computed().filter(target=gone).exists()
    assert not RelatedLink.objects.computed().filter(computed_for=gone).exists()
    assert not RelatedDocument.objects.filter(page=gone).exists()
    # The lists that held it were refilled from the rest of the story.
    assert stored(corpus["quake"][0].pk)


@pytest.mark.django_db
def test_scheduled_article_is_not_suggested(corpus, news, django_capture_on_commit_callbacks):
    city = news.section("City")
    with django_capture_on_commit_callbacks(execute=True):
        future = news.publish_article(
            section_page=city,
            title="Earthquake aftershock warning for Northbridge harbour",
            paragraphs=["Helen Okafor warned of an aftershock near the harbour warehouses."],
            published_at=timezone.now() + dt.timedelta(days=2),
        )
    future.refresh_from_db()
    assert not future.live
    assert not RelatedLink.objects.computed().filter(target=future).exists()
    assert not RelatedDocument.objects.filter(page=future).exists()


@pytest.mark.django_db
def test_near_duplicate_is_not_suggested(corpus, news, django_capture_on_commit_callbacks):
    original = corpus["strike"][1]
    title, text = STORIES["strike"][1]
    with django_capture_on_commit_callbacks(execute=True):
        copy = _publish(news, news.section("City"), title + " (update)", text, days_ago=0.5)
    assert stored(copy.pk), "the copy still gets related stories"
    assert original.pk not in [t for t, _ in stored(copy.pk)]
    assert copy.pk not in [t for t, _ in stored(original.pk)]


@pytest.mark.django_db
def test_recent_story_outranks_an_old_one_equally_similar(db, news):
    city = news.section("City")
    text = "Harbour pilots at Northbridge Port warned about fog near the Wend estuary lighthouse."
    base = _publish(news, city, "Fog warning at Northbridge Port", text, days_ago=0)
    old = _publish(news, city, "Harbour pilots warn about estuary fog", text, days_ago=400)
    new = _publish(news, city, "Pilots at Northbridge Port fear fog", text, days_ago=1)
    services.related_rebuild()
    order = [t for t, _ in stored(base.pk)]
    assert order.index(new.pk) < order.index(old.pk) if old.pk in order else new.pk in order


@pytest.mark.django_db
def test_reasons_name_the_evidence(corpus):
    link = (
        RelatedLink.objects.computed()
        .filter(computed_for=corpus["strike"][0], target=corpus["strike"][1])
        .get()
    )
    assert link.reason.startswith("shares ")
    assert "Marcus Bellweather" in link.reason or "tram" in link.reason.lower()
    assert "same section" in link.reason
    assert "day" in link.reason
    assert link.score > 0


@pytest.mark.parametrize(
    "days, text",
    [
        (0.2, "same day"),
        (1, "1 day apart"),
        (2.5, "2 days apart"),
        (90, "3 months apart"),
        (800, "2 years apart"),
    ],
)
def test_days_apart_text(days, text):
    assert days_apart_text(days) == text
    assert days_apart_text(-days) == text


# --- Incremental updates ----------------------------------------------------------------------


@pytest.mark.django_db
def test_publishing_enters_the_article_into_existing_lists(
    corpus, news, django_capture_on_commit_callbacks
):
    before = stored(corpus["festival"][0].pk)
    with django_capture_on_commit_callbacks(execute=True):
        late = _publish(
            news,
            news.section("City"),
            "Old Mill Square lantern festival to return next year",
            "Priya Castellano said the lantern festival will return to Old Mill Square.",
            days_ago=0,
        )
    after = stored(corpus["festival"][0].pk)
    assert late.pk in [t for t, _ in after]
    assert late.pk not in [t for t, _ in before]
    assert stored(late.pk), "the new article got its own list"


@pytest.mark.django_db
@pytest.mark.parametrize("auto", [0, 1])
def test_incremental_updates_equal_a_full_rebuild(
    db, news, settings, django_capture_on_commit_callbacks, auto
):
    settings.MASTHEAD_RELATED = {
        "BACKEND": "masthead.related.backends.terms.TermsBackend",
        "OPTIONS": {"MODELS": ["news.ArticlePage"], "AUTO_REFRESH_MAX": 0},
    }
    city, sport = news.section("City"), news.section("Sport")
    first = {name: items[:2] for name, items in STORIES.items()}
    pages = []
    for name, items in first.items():
        for i, (title, text) in enumerate(items):
            pages.append(
                _publish(news, sport if name == "cricket" else city, title, text, days_ago=5 - i)
            )
    services.related_rebuild(refresh_stats=True)
    # Publish the rest one by one, edit one, unpublish one: all through signals and tasks.
    with django_capture_on_commit_callbacks(execute=True):
        for name, items in STORIES.items():
            for title, text in items[2:]:
                pages.append(
                    _publish(news, sport if name == "cricket" else city, title, text, days_ago=1)
                )
    edited = pages[0]
    edited.body = [("paragraph", "<p>Marcus Bellweather said tram drivers would strike.</p>")]
    with django_capture_on_commit_callbacks(execute=True):
        edited.save_revision().publish()
    with django_capture_on_commit_callbacks(execute=True):
        pages[3].unpublish()
    incremental = snapshot()
    assert incremental, "incremental updates stored nothing"
    services.related_rebuild(refresh_stats=False)
    assert snapshot() == incremental


@pytest.mark.django_db
def test_edits_and_unpublishes_of_full_lists_equal_a_full_rebuild(
    db, news, settings, django_capture_on_commit_callbacks
):
    """Lists are full (more same-story pages than KEEP): an edit that makes a page weaker
    drops it from lists (they are refilled), one that makes it stronger keeps or enters it."""
    settings.MASTHEAD_RELATED = {
        "BACKEND": "masthead.related.backends.terms.TermsBackend",
        "OPTIONS": {"MODELS": ["news.ArticlePage"], "AUTO_REFRESH_MAX": 0},
    }
    city = news.section("City")
    facts = [
        "Councillors debated the Wend Bridge repair budget at Northbridge Town Hall",
        "Engineer Dana Whitcombe said the bridge cables were corroded",
        "Treasurer Colin Avery warned the repair would delay the Harbour Library",
        "Residents of Old Mill Square asked for a ferry while the bridge is shut",
        "Wend Valley hauliers fear a long detour through Brampton",
    ]
    pages = []
    for i in range(KEEP + 6):
        text = ". ".join(facts[j % len(facts)] for j in range(i % 3, i % 3 + 2 + i % 4))
        pages.append(_publish(news, city, f"Wend Bridge repairs, day {i}", text, days_ago=i * 0.7))
    services.related_rebuild(refresh_stats=True)
    assert max(len(items) for items in snapshot().values()) == KEEP, "lists should be full"
    with django_capture_on_commit_callbacks(execute=True):
        weaker = pages[2]
        weaker.body = [("paragraph", "<p>Brampton hauliers met on Tuesday.</p>")]
        weaker.save_revision().publish()
        stronger = pages[-1]
        stronger.body = [("paragraph", "<p>" + ". ".join(facts) + ".</p>")]
        stronger.save_revision().publish()
        pages[5].unpublish()
        pages[8].unpublish()
    incremental = snapshot()
    services.related_rebuild(refresh_stats=False)
    assert snapshot() == incremental


@pytest.mark.django_db
def test_a_parallel_rebuild_stores_what_a_single_process_rebuild_stores(
    corpus, settings, monkeypatch
):
    from masthead.related.backends import terms

    settings.MASTHEAD_RELATED = {
        "BACKEND": "masthead.related.backends.terms.TermsBackend",
        "OPTIONS": {"MODELS": ["news.ArticlePage"], "WORKERS": 1},
    }
    services.related_rebuild()
    single = snapshot()
    reasons = sorted(RelatedLink.objects.computed().values_list("computed_for_id", "reason"))
    assert single
    forks = []
    original = terms.TermsBackend._parallel

    def counted(function, tasks, workers, **shared):
        forks.append(workers)
        return original(function, tasks, workers, **shared)

    monkeypatch.setattr(terms, "PARALLEL_MIN", 0)
    monkeypatch.setattr(terms, "BATCH", 3)  # several tasks per worker
    monkeypatch.setattr(terms.TermsBackend, "_parallel", staticmethod(counted))
    settings.MASTHEAD_RELATED["OPTIONS"]["WORKERS"] = 2
    services.related_rebuild()
    assert forks == [2, 2], "text features and ranking both ran in two worker processes"
    assert snapshot() == single
    assert (
        sorted(RelatedLink.objects.computed().values_list("computed_for_id", "reason")) == reasons
    )


@pytest.mark.django_db
def test_full_lists_keep_their_best(db, news):
    city = news.section("City")
    text = "Councillors at Northbridge Town Hall debated the Wend Bridge repair budget again."
    pages = [
        _publish(
            news, city, f"Wend Bridge budget debate part {i}", text + f" Session {i}.", days_ago=i
        )
        for i in range(KEEP + 3)
    ]
    services.related_rebuild()
    for page in pages:
        assert len(stored(page.pk)) <= KEEP


# --- Editor picks first, blocks never ------------------------------------------------------


@pytest.mark.django_db
def test_editor_pick_comes_first_and_blocked_story_is_never_shown(corpus):
    page = corpus["quake"][0]
    computed = [t for t, _ in stored(page.pk)]
    blocked_id = computed[0]
    picked = corpus["cricket"][0]
    RelatedLink.objects.create(page=page, target=picked, sort_order=0)
    RelatedLink.objects.create(page=page, target_id=blocked_id, blocked=True, sort_order=1)
    related = related_for_page(page=page, limit=5)
    ids = [p.pk for p in related.stories]
    assert ids[0] == picked.pk
    assert blocked_id not in ids
    assert page.pk not in ids
    assert len(ids) == len(set(ids))
    assert related.also_read.target.pk == ids[1]
    assert related.also_read.computed


@pytest.mark.django_db
def test_also_read_prefers_the_editors_placed_pick(corpus):
    page = corpus["quake"][0]
    picked = corpus["strike"][0]
    RelatedLink.objects.create(page=page, target=picked, also_read_after=1, sort_order=0)
    related = related_for_page(page=page, limit=5)
    assert related.also_read.target.pk == picked.pk
    assert related.also_read.also_read_after == 1
    assert not related.also_read.computed


@pytest.mark.django_db
def test_automatic_also_read_can_be_turned_off(corpus):
    page = corpus["quake"][0]
    assert related_for_page(page=page, limit=5).also_read.also_read_after == AUTO_ALSO_READ_AFTER
    assert related_for_page(page=page, limit=5, auto_also_read=False).also_read is None


@pytest.mark.django_db
def test_selector_is_one_query(corpus, django_assert_num_queries):
    page = corpus["quake"][0]
    RelatedLink.objects.create(page=page, target=corpus["cricket"][0], sort_order=0)
    with django_assert_num_queries(1):
        related = related_for_page(page=page, limit=5)
        [p.title for p in related.stories]


# --- The article page -------------------------------------------------------------------------


def _related_region(client, page):
    soup = BeautifulSoup(client.get(page.url).content.decode(), "html.parser")
    region = soup.select_one('[data-region="related"]')
    also = soup.select_one('[data-region="also-read"]')
    return region, also


@pytest.mark.django_db
def test_article_page_shows_computed_suggestions_and_automatic_also_read(client, corpus):
    page = corpus["strike"][0]
    region, also = _related_region(client, page)
    links = [a["href"] for a in region.find_all("a", href=True)]
    assert corpus["strike"][1].url in links
    assert page.url not in links
    assert also is not None
    assert also.find("a")["href"] == links[0]


@pytest.mark.django_db
def test_article_page_without_automatic_also_read(client, corpus):
    page = corpus["strike"][0]
    page.also_read_auto = False
    page.save_revision().publish()
    _, also = _related_region(client, page)
    assert also is None


@pytest.mark.django_db
def test_related_adds_at_most_one_query_to_the_article_page(client, corpus, monkeypatch):
    from masthead.news.models import pages as news_pages
    from masthead.related.selectors import RelatedStories

    page = corpus["quake"][0]

    def count() -> int:
        client.get(page.url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page.url).status_code == 200
        return len(ctx.captured_queries)

    with_related = count()
    monkeypatch.setattr(news_pages, "related_for_page", lambda **kwargs: RelatedStories())
    without = count()
    assert with_related - without <= 1, (with_related, without)


# --- Editor panel -----------------------------------------------------------------------------


def test_pin_adds_a_row_to_the_inline_formset():
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    data.update(
        {
            "related_links-TOTAL_FORMS": "1",
            "related_links-0-target": "7",
            "related_links-0-ORDER": "1",
        }
    )
    pinned = pin_or_block(data, action="pin", target_id=9)
    assert pinned["related_links-TOTAL_FORMS"] == "2"
    assert pinned["related_links-1-target"] == "9"
    assert "related_links-1-blocked" not in pinned
    blocked = pin_or_block(data, action="block", target_id=7)
    assert blocked["related_links-0-blocked"] == "on"
    assert blocked["related_links-TOTAL_FORMS"] == "1"
    assert pin_or_block(data, action="explode", target_id=7) is data


@pytest.mark.django_db
def test_panel_lists_suggestions_and_pin_saves_a_draft_pick(client, corpus, django_user_model):
    admin = django_user_model.objects.create_superuser("editor", "e@example.com", "pw")
    client.force_login(admin)
    page = corpus["festival"][0]
    target = stored(page.pk)[0][0]
    url = f"/newsroom/pages/{page.pk}/edit/"
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Suggested related stories" in html
    assert f'name="related-pin" value="{target}"' in html
    link = RelatedLink.objects.computed().get(computed_for=page, target_id=target)
    assert link.reason in html.replace("&#x27;", "'")

    # Submit the edit form as the browser would, with the Pin button as the submitter.
    from wagtail.test.utils.form_data import (
        inline_formset,
        nested_form_data,
        rich_text,
        streamfield,
    )

    page = page.specific
    post = nested_form_data(
        {
            "title": page.title,
            "slug": page.slug,
            "standfirst": page.standfirst,
            "body": streamfield([("paragraph", rich_text("<p>Lanterns.</p>"))]),
            "tags": "",
            "also_read_auto": "on",
            "article_authors": inline_formset(
                [{"id": b.pk, "author": b.author_id} for b in page.article_authors.all()],
                initial=page.article_authors.count(),
            ),
            "related_links": inline_formset([]),
            "notes": inline_formset([]),
        }
    )
    post["related-pin"] = str(target)
    response = client.post(url, post)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft = type(page).objects.get(pk=page.pk).get_latest_revision_as_object()
    assert [(link.target_id, link.blocked) for link in draft.related_links.all()] == [
        (target, False)
    ]


# --- Backends and the command -----------------------------------------------------------------


def test_unknown_backend_is_named_in_the_error():
    with pytest.raises(InvalidRelatedBackendError, match="nowhere.Backend"):
        get_backend({"BACKEND": "nowhere.Backend", "OPTIONS": {}})


@pytest.mark.django_db
def test_rebuild_command_reports_the_pages(corpus, capsys):
    RelatedLink.objects.computed().delete()
    call_command("related", "rebuild", "--no-progress")
    out = capsys.readouterr().out
    assert "Rebuilt related suggestions for 13 pages" in out
    assert RelatedLink.objects.computed().exists()


@pytest.mark.django_db
def test_tags_backend_baseline_suggests_shared_tags(db, news, settings):
    settings.MASTHEAD_RELATED = {
        "BACKEND": "masthead.related.backends.tags.TagsBackend",
        "OPTIONS": {"MODELS": ["news.ArticlePage"]},
    }
    city = news.section("City")
    a = news.publish_article(section_page=city, title="One", tags=["Bridge"])
    b = news.publish_article(section_page=city, title="Two", tags=["Bridge"])
    news.publish_article(section_page=city, title="Three", tags=["Cats"])
    services.related_rebuild()
    assert stored(a.pk)[0][0] == b.pk
