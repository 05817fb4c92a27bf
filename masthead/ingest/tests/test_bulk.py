"""The bulk import path: what it leaves matches an editor's publish, and what it defers happens once."""

import json
from pathlib import Path

import pytest
from wagtail.models import PageLogEntry, ReferenceIndex
from wagtail.signals import page_published

from masthead.ingest import services as ingest
from masthead.ingest.importers.base import ImportFormatError
from masthead.ingest.importers.jsonl import JsonLinesImporter
from masthead.news import services as news
from masthead.news.models import ArticlePage
from masthead.related.models import RelatedLink

DEFERRED_UIDS = {
    "masthead-search-published",
    "masthead-related-published",
    "masthead-news-published",
    "masthead-pagecache-published",
}


def write_rows(path: Path, rows: list) -> Path:
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in rows))
    return path


def story(n: int, title: str | None = None, **extra) -> dict:
    return {
        "id": f"story-{n}",
        "title": title or f"Harbour dredging contract number {n} goes to tender",
        "body": (
            f"The port authority opened tender {n} for dredging the harbour channel.\n\n"
            "Shipping lines welcomed the deeper berths for container vessels."
        ),
        "author": "Port Reporter",
        "published": "2024-05-01T10:00:00Z",
        "section": "Business",
        "tags": ["Shipping", "Ports"],
        **extra,
    }


def import_file(path: Path) -> ingest.ImportReport:
    return ingest.import_articles([(path, JsonLinesImporter())])


def connected_uids() -> set[str]:
    return {key[0] for key, *_ in page_published.receivers if isinstance(key[0], str)}


def references(page) -> set[tuple]:
    return set(
        ReferenceIndex.objects.filter(object_id=str(page.pk)).values_list(
            "to_content_type", "to_object_id", "model_path"
        )
    )


@pytest.mark.django_db
def test_bulk_imported_article_matches_an_editor_published_one(tmp_path):
    report = import_file(write_rows(tmp_path / "one.jsonl", [story(1)]))
    assert report.created == 1 and report.phases["pages"] > 0
    imported = ArticlePage.objects.get(source_id="jsonl:story-1")

    section = imported.get_parent().specific
    edited, _ = news.article_save(
        section=section,
        title="Harbour dredging contract for editors goes to tender",
        body=news.body_from_paragraphs(["The port authority opened a tender.", "Second."]),
        authors=[news.author_get_or_create(name="Port Reporter")],
        tags=["Shipping", "Ports"],
        published_at=imported.first_published_at,
    )
    edited.refresh_from_db()

    for page in (imported, edited):
        assert page.live and not page.has_unpublished_changes
        assert page.live_revision_id == page.latest_revision_id is not None
        assert page.url_path == f"{section.url_path}{page.slug}/"
        assert page.last_published_at == page.first_published_at
    assert set(imported.live_revision.content) == set(edited.live_revision.content)
    revision_body = json.loads(imported.live_revision.content["body"])
    assert [b["id"] for b in revision_body] == [b.id for b in imported.body]
    assert [b.block_type for b in imported.live_revision.as_object().body] == [
        "paragraph",
        "paragraph",
    ]
    assert {"wagtail.create", "wagtail.publish"} <= set(
        PageLogEntry.objects.filter(page=imported).values_list("action", flat=True)
    )
    assert PageLogEntry.objects.get(page=imported, action="wagtail.publish").revision_id == (
        imported.live_revision_id
    )
    # Same kinds of references (the byline's author) as the editor's page.
    assert {r[2] for r in references(imported)} == {r[2] for r in references(edited)} != set()
    # Indexed from memory: headline, body, section, byline and tags all findable.
    for words in ("dredging", "container vessels", "Business", "Port Reporter", "Shipping"):
        assert imported.pk in {p.pk for p in ArticlePage.objects.search(words)}, words


@pytest.mark.django_db
def test_reference_index_update_writes_what_wagtail_writes_per_object(tmp_path):
    import_file(write_rows(tmp_path / "two.jsonl", [story(1), story(2)]))
    pages = list(ArticlePage.objects.order_by("pk"))
    ours = {page.pk: references(page) for page in pages}
    ReferenceIndex.objects.all().delete()
    for page in pages:
        ReferenceIndex.create_or_update_for_object(page)
    assert {page.pk: references(page) for page in pages} == ours
    assert all(ours.values())

    # A reference the page no longer has is removed; the ones it has are kept once.
    author_row = ReferenceIndex.objects.filter(object_id=str(pages[0].pk)).first()
    stale = ReferenceIndex.objects.create(
        content_type_id=author_row.content_type_id,
        base_content_type_id=author_row.base_content_type_id,
        object_id=author_row.object_id,
        to_content_type_id=author_row.to_content_type_id,
        to_object_id="999999",
        model_path="article_authors.item.author",
        content_path="article_authors.999999.author",
        content_path_hash=ReferenceIndex._get_content_path_hash("article_authors.999999.author"),
    )
    ingest.reference_index_update(ArticlePage.objects.order_by("pk"))
    assert not ReferenceIndex.objects.filter(pk=stale.pk).exists()
    assert {page.pk: references(page) for page in pages} == ours


@pytest.mark.django_db
def test_import_defers_publishing_work_and_reconnects_it(tmp_path, monkeypatch):
    assert DEFERRED_UIDS <= connected_uids()
    seen_during = []

    def spy(*args, **kwargs):
        seen_during.append(connected_uids())

    monkeypatch.setattr(ingest, "_related_update", spy)
    import_file(write_rows(tmp_path / "three.jsonl", [story(n) for n in range(3)]))
    assert seen_during and not (DEFERRED_UIDS & seen_during[0])
    assert DEFERRED_UIDS <= connected_uids()


@pytest.mark.django_db
def test_failure_in_the_deferred_work_saves_nothing_and_reconnects(tmp_path, monkeypatch):
    before = ArticlePage.objects.count()

    def broken(objects):
        raise RuntimeError("reference index is down")

    monkeypatch.setattr(ingest, "reference_index_update", broken)
    with pytest.raises(RuntimeError, match="reference index is down"):
        import_file(write_rows(tmp_path / "four.jsonl", [story(n) for n in range(3)]))
    assert ArticlePage.objects.count() == before
    assert DEFERRED_UIDS <= connected_uids()


@pytest.mark.django_db
def test_bad_line_after_a_full_batch_saves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(ingest, "BATCH_SIZE", 2)
    rows = [story(n) for n in range(5)] + ['{"title": "Cut off", "body": \n']
    with pytest.raises(ImportFormatError, match="line 6"):
        import_file(write_rows(tmp_path / "five.jsonl", rows))
    assert not ArticlePage.objects.exists()
    assert not ReferenceIndex.objects.exists()
    assert DEFERRED_UIDS <= connected_uids()


# Two developing stories, three articles each (as in masthead/related's tests).
DEVELOPING = [
    (
        "Tram drivers vote to strike over pay",
        "Tram drivers at Courier Transit voted to strike "
        "over pay. The union leader Marcus Bellweather said talks with the transit board failed.",
    ),
    (
        "Tram strike halts city services",
        "No trams ran on Tuesday as drivers began their strike. "
        "Marcus Bellweather said the union would picket the Courier Transit depot.",
    ),
    (
        "Courier Transit makes new pay offer to tram drivers",
        "Courier Transit offered tram "
        "drivers a new pay deal. Marcus Bellweather said the union would put it to a vote.",
    ),
    (
        "Lantern festival returns to Old Mill Square",
        "The lantern festival returns to Old Mill "
        "Square with music and paper lanterns. Organiser Priya Castellano expects record crowds.",
    ),
    (
        "Record crowds at Old Mill Square lantern festival",
        "Record crowds filled Old Mill Square "
        "for the lantern festival, Priya Castellano said, as paper lanterns lit the river.",
    ),
    (
        "Lantern festival clean-up praised",
        "Volunteers cleared Old Mill Square after the lantern "
        "festival. Priya Castellano praised the clean-up crews.",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("rebuild_min", [1, 1000])
def test_imported_articles_get_related_news_in_one_pass_or_page_by_page(
    tmp_path, monkeypatch, rebuild_min
):
    monkeypatch.setattr(ingest, "RELATED_REBUILD_MIN", rebuild_min)
    rows = [story(n, title=title, body=body, tags=[]) for n, (title, body) in enumerate(DEVELOPING)]
    import_file(write_rows(tmp_path / "six.jsonl", rows))
    pages = ArticlePage.objects.all()
    with_suggestions = set(
        RelatedLink.objects.computed().values_list("computed_for_id", flat=True).distinct()
    )
    assert with_suggestions == {page.pk for page in pages}


@pytest.mark.django_db
def test_reimport_updates_by_source_id_without_a_query_per_draft(tmp_path):
    path = write_rows(tmp_path / "seven.jsonl", [story(n) for n in range(3)])
    import_file(path)
    report = import_file(write_rows(path, [story(1, title="Dredging tender cancelled")]))
    assert (report.created, report.updated) == (0, 1)
    page = ArticlePage.objects.get(source_id="jsonl:story-1")
    assert page.title == "Dredging tender cancelled"
    assert page.pk in {p.pk for p in ArticlePage.objects.search("cancelled")}
    assert ArticlePage.objects.count() == 3


@pytest.mark.django_db
def test_import_makes_the_page_cache_stale_once_with_every_page(
    tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    purges = []

    class Task:  # django_tasks' Task is frozen: stand in for the whole task
        @staticmethod
        def enqueue(page_ids=None):
            purges.append(sorted(page_ids or []))

    monkeypatch.setattr("masthead.pagecache.tasks.content_changed", Task)
    with django_capture_on_commit_callbacks(execute=True):
        import_file(write_rows(tmp_path / "eight.jsonl", [story(n) for n in range(4)]))
    ids = sorted(ArticlePage.objects.values_list("pk", flat=True))
    assert ids and ids in purges
    assert all(len(p) != 1 for p in purges), purges  # no purge per article


@pytest.mark.parametrize(
    "blocks",
    [
        news.body_from_paragraphs(
            ["Plain <b>text</b> & more", "## A subhead", "> Quoted — Someone"]
        ),
        [("paragraph", '<p>Kept <b>bold</b><script>alert("gone")</script></p>')],
        [("heading", "Heading only")],
    ],
)
def test_bulk_body_json_is_what_the_stream_field_stores(blocks):
    stream_block = ArticlePage._meta.get_field("body").stream_block
    ours = news._stream_json(stream_block, blocks)
    wagtails = stream_block.get_prep_value(stream_block.normalize(blocks))
    assert [(b["type"], b["value"]) for b in ours] == [(b["type"], b["value"]) for b in wagtails]
    assert len({b["id"] for b in ours}) == len(ours)


@pytest.mark.django_db
def test_an_archive_listed_newest_first_is_indexed_oldest_first(tmp_path):
    from django.contrib.contenttypes.models import ContentType
    from modelsearch.conf import get_app_config

    days = [28, 21, 14, 7, 1]
    rows = [story(n, published=f"2024-05-{day:02d}T10:00:00Z") for n, day in enumerate(days)]
    import_file(write_rows(tmp_path / "archive.jsonl", rows))
    entries = (
        get_app_config()
        .get_model("IndexEntry")
        .objects.filter(content_type=ContentType.objects.get_for_model(ArticlePage))
    )
    pages = ArticlePage.objects.in_bulk(
        [int(pk) for pk in entries.values_list("object_id", flat=True)]
    )
    by_entry = [pages[int(pk)] for pk in entries.order_by("id").values_list("object_id", flat=True)]
    assert [p.first_published_at.day for p in by_entry] == sorted(days)
