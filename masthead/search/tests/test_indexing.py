"""A rebuild reads rows of values, not pages: it must write exactly what the pages would."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from modelsearch.conf import get_app_config

from masthead.news import services
from masthead.news.models import ArticlePage
from masthead.news.tests.factories import AuthorFactory, section
from masthead.search.backends.indexing import RAW_STREAMS, IndexRows
from masthead.search.models import Word
from masthead.search.services import index_rebuild

pytestmark = pytest.mark.django_db


def story(title, paragraphs, **kwargs):
    page, _ = services.article_save(
        section=section(kwargs.pop("section_name", "World")),
        title=title,
        body=services.body_from_paragraphs(paragraphs),
        authors=[AuthorFactory(name=kwargs.pop("author", "Ana Lima"))],
        published_at=timezone.now() - dt.timedelta(days=kwargs.pop("days_ago", 1)),
        **kwargs,
    )
    return page


def index_snapshot():
    """Return every index entry (all columns but the id, as text) and the vocabulary."""
    entry = get_app_config().get_model("IndexEntry")
    names = [f.attname for f in entry._meta.concrete_fields if not f.primary_key]
    entries = sorted(tuple(str(v) for v in row) for row in entry.objects.values_list(*names))
    return entries, sorted(Word.objects.values_list("word", "docs"))


@pytest.fixture
def stories():
    return [
        story(
            "Élysée talks on grain <exports>",
            [
                "Ministers met in Paris & agreed.",
                "## What comes next",
                "> We will ship more grain — Ana Lima",  # a StructBlock: converted to be read
                "Ships leave Odesa on Monday.",
            ],
            standfirst="A deal, at last.",
            tags=["Grain", "Trade"],
            author="Olena Kovalenko",
        ),
        story("Harbour reopens", ["Boats are back."], section_name="City"),
        story("No body at all", []),
    ]


def test_rebuild_from_rows_writes_what_the_pages_would(stories, monkeypatch):
    read = []
    original = IndexRows.read
    monkeypatch.setattr(IndexRows, "read", lambda self, qs: read.append(1) or original(self, qs))
    index_rebuild()
    from_rows = index_snapshot()
    assert read  # the rebuild did read rows
    monkeypatch.setattr(IndexRows, "for_queryset", classmethod(lambda cls, queryset: None))
    index_rebuild()
    from_pages = index_snapshot()
    assert from_rows == from_pages
    texts = " ".join(" ".join(entry) for entry in from_rows[0]).lower()
    assert "ship" in texts and "what comes next" in texts  # a quote and a subhead
    assert "kovalenko" in texts and "trade" in texts  # a byline and a tag


def test_rows_are_light_pages_whose_other_fields_load_on_access(stories):
    queryset = ArticlePage.get_indexed_objects().prefetch_related(None).order_by("pk")
    rows = IndexRows.for_queryset(queryset)
    assert rows is not None
    pages = rows.read(rows.queryset)
    assert [p.pk for p in pages] == sorted(p.pk for p in stories)
    first = pages[0]
    assert first.title == stories[0].title and first.section_name == "World"
    assert "body" not in first.__dict__ and first.body  # raw JSON read; the field itself deferred
    assert RAW_STREAMS in first.__dict__
    assert first.first_published_at == ArticlePage.objects.get(pk=first.pk).first_published_at


def test_querysets_asking_for_more_are_read_as_pages():
    queryset = ArticlePage.objects.all()
    assert IndexRows.for_queryset(queryset.select_related("featured_image")) is None
    assert IndexRows.for_queryset(queryset.prefetch_related("tagged_items")) is None
    assert IndexRows.for_queryset(queryset.only("title")) is None
    assert IndexRows.for_queryset(queryset) is not None


@pytest.fixture
def filed_newest_first():
    """Harbour stories created newest first, as an archive listed newest first is imported."""
    return [story(f"Harbour report {n}", [f"Report {n}."], days_ago=n) for n in (1, 5, 9, 30, 90)]


def test_a_rebuild_numbers_entries_by_publication_date(filed_newest_first):
    index_rebuild(chunk_size=2)  # several chunks: the order holds across them
    entry = get_app_config().get_model("IndexEntry")
    articles = entry.objects.filter(content_type=ContentType.objects.get_for_model(ArticlePage))
    ids = {page.pk: page for page in filed_newest_first}
    by_entry = [
        ids[int(object_id)]
        for object_id in articles.order_by("id").values_list("object_id", flat=True)
        if int(object_id) in ids
    ]
    dates = [page.first_published_at for page in by_entry]
    assert len(dates) == 5 and dates == sorted(dates)


def test_the_typeahead_candidates_are_the_newest_stories_after_a_rebuild(
    filed_newest_first, monkeypatch
):
    from masthead.search.selectors import search_backend, search_suggest

    index_rebuild()
    compiler = search_backend().autocomplete_query_compiler_class
    monkeypatch.setattr(compiler, "CANDIDATE_LIMIT", 2)  # the two newest-numbered matches
    titles = [s["headline"] for s in search_suggest(text="harbour")]
    assert titles == ["Harbour report 1", "Harbour report 5"]


def test_a_queryset_joining_to_many_rows_still_gives_each_object_once(stories):
    from masthead.search.services import _chunks

    two_tags = ArticlePage.objects.filter(tagged_items__tag__name__in=["Grain", "Trade"])
    assert two_tags.count() == 2  # one story, a row per tag
    chunks = list(_chunks(two_tags, 2))
    assert [[page.pk for page in chunk] for chunk in chunks] == [[stories[0].pk]]


def test_the_second_core_paths_of_a_rebuild_write_what_the_plain_path_writes(stories, monkeypatch):
    """Related rows read with the chunk (as the read-ahead thread does) and words counted
    by a forked worker (PostgreSQL) give the same index and vocabulary.

    The thread itself cannot see this test's uncommitted stories: here the
    chunks are read in this thread, through the same ``with_related``.
    """
    from django.db import connection

    from masthead.search import services as search_services
    from masthead.search.backends import indexing
    from masthead.search.backends.indexing import MastheadIndexMixin, RelatedChunk

    index_rebuild(chunk_size=2)
    plain = index_snapshot()
    monkeypatch.setattr(search_services, "WORD_WORKERS_MIN", 0)
    monkeypatch.setattr(search_services, "can_read_ahead", lambda connection: True)
    chunks = []

    def read_here(read, depth=2):
        read = list(read)
        chunks.extend(read)
        return iter(read)

    monkeypatch.setattr(search_services, "_read_ahead", read_here)
    pools = []
    original = MastheadIndexMixin.record_documents
    monkeypatch.setattr(
        MastheadIndexMixin,
        "record_documents",
        lambda self, documents: pools.append(self.word_pool) or original(self, documents),
    )
    loads = []
    load_related = indexing.load_related
    monkeypatch.setattr(
        indexing, "load_related", lambda *args: loads.append(1) or load_related(*args)
    )
    index_rebuild(chunk_size=2)
    assert index_snapshot() == plain
    assert chunks and all(isinstance(chunk, RelatedChunk) for chunk in chunks)
    assert len(loads) == len(chunks)  # once per chunk, read ahead: not again by the index
    if connection.vendor == "postgresql":  # SQLite reads its words from FTS5
        assert pools and all(pool is not None for pool in pools)


def test_read_ahead_yields_every_chunk_in_order_from_its_thread():
    import threading

    from masthead.search.services import _read_ahead

    readers = []

    def chunks():
        for i in range(5):
            readers.append(threading.current_thread().name)
            yield [i]

    assert list(_read_ahead(chunks(), depth=1)) == [[0], [1], [2], [3], [4]]
    assert set(readers) == {"masthead-index-read"}


def test_read_ahead_raises_the_readers_error_in_the_loop():
    from masthead.search.services import _read_ahead

    def chunks():
        yield [1]
        raise ValueError("disk on fire")

    got = []
    with pytest.raises(ValueError, match="disk on fire"):
        for chunk in _read_ahead(chunks()):
            got.append(chunk)
    assert got == [[1]]


def test_leaving_read_ahead_early_stops_its_thread():
    import itertools
    import threading

    from masthead.search.services import _read_ahead

    reader = _read_ahead(([i] for i in itertools.count()), depth=1)
    assert next(reader) == [0]
    reader.close()
    assert not [t for t in threading.enumerate() if t.name == "masthead-index-read"]


@pytest.mark.parametrize(
    ("vendor", "in_atomic_block", "allowed"),
    [("postgresql", False, True), ("postgresql", True, False), ("sqlite", False, False)],
)
def test_a_rebuild_reads_ahead_only_on_postgresql_outside_a_transaction(
    vendor, in_atomic_block, allowed
):
    from types import SimpleNamespace

    from masthead.search.services import can_read_ahead

    connection = SimpleNamespace(vendor=vendor, in_atomic_block=in_atomic_block)
    assert can_read_ahead(connection) is allowed
