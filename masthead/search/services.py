"""Writes of the search index: rebuild everything, or bring one page up to date."""

import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connections, router, transaction
from django.db.models import F
from modelsearch.backends import get_search_backend
from modelsearch.index import get_indexed_models, insert_or_update_object, remove_object

from masthead.search.backends.base import RECENCY_FIELD, has_fields
from masthead.search.backends.indexing import IndexRows, MastheadIndexMixin, with_related

REBUILD_CHUNK = 500  # objects read, indexed and written per step; bounds memory, not speed
WORD_WORKERS_MIN = 2 * REBUILD_CHUNK  # objects from which a rebuild counts words in a worker


def index_rebuild(
    *,
    backend_name: str = "default",
    chunk_size: int = REBUILD_CHUNK,
    progress: Callable[[int, int, str], None] | None = None,
) -> int:
    """Rebuild the search index (and its vocabulary) from scratch; return the objects indexed.

    ``progress(done, total, label)`` is called after every chunk. With the atomic
    rebuilder (the default) a failure leaves the previous index in place.
    """
    backend = get_search_backend(backend_name)
    if not backend.rebuilder_class:
        return 0
    models = get_indexed_models()
    analyze_if_never_analyzed(models)
    total = sum(model.get_indexed_objects().count() for model in models)
    done = 0
    indexes: dict = {}
    for model in models:
        index = backend.get_index_for_model(model)
        indexes.setdefault(index.get_key(), (index, []))[1].append(model)
    # Masthead's backends name a plain rebuilder; one transaction around all of it
    # means a failure leaves the previous index (and vocabulary) in place.
    rebuilder_class = getattr(backend, "plain_rebuilder_class", None) or backend.rebuilder_class
    read_ahead = bool(models) and can_read_ahead(connections[router.db_for_write(models[0])])
    # The worker is forked first, while this is the only thread (``_read_ahead`` starts one).
    with word_workers(backend, total) as pool, transaction.atomic():
        for index, index_models in indexes.values():
            rebuilder = rebuilder_class(index)
            index = rebuilder.start()
            batched = isinstance(index, MastheadIndexMixin)  # Masthead's: takes chunks, a pool
            if batched:
                index.word_pool = pool
            try:
                for model in index_models:
                    index.add_model(model)
                    label = f"{model._meta.app_label}.{model.__name__}"
                    chunks = _chunks(model.get_indexed_objects(), chunk_size, batched)
                    if read_ahead:
                        # Masthead's index also takes the chunks' related rows read ahead.
                        chunks = _read_ahead(
                            (with_related(model, chunk) for chunk in chunks) if batched else chunks
                        )
                    for chunk in chunks:
                        index.add_items(model, chunk)
                        done += len(chunk)
                        if progress:
                            progress(done, total, label)
                rebuilder.finish()
            finally:
                if batched:
                    index.word_pool = None  # the pool ends with this rebuild
    for index, _models in indexes.values():
        vacuum_if_outside_transaction(index)
    return done


@contextmanager
def word_workers(backend, total: int):
    """Yield a pool of one forked process that counts a rebuild's vocabulary, or None.

    Only where the backend counts words in Python (PostgreSQL: SQLite reads
    them from FTS5), the rebuild is large enough, and processes can fork.
    Counting took about 5 of the 40 s of CPU this process spent on 100,000
    articles; the worker does it on the other core while this one prepares
    the next batch. It computes only, never touching the database connection
    it inherits (as ``related.backends.terms``' workers).
    """
    if (
        total < WORD_WORKERS_MIN
        or getattr(backend, "vocabulary_from_index", True)
        or "fork" not in multiprocessing.get_all_start_methods()
    ):
        yield None
        return
    pool = multiprocessing.get_context("fork").Pool(1)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def can_read_ahead(connection) -> bool:
    """Return True when a rebuild writing through ``connection`` may read on another (``_read_ahead``).

    That is on PostgreSQL, and outside a transaction: the other connection
    sees only committed rows, and a rebuild called inside a transaction must
    also index what that transaction wrote.
    """
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def _read_ahead(chunks: Iterator[list], depth: int = 2) -> Iterator[list]:
    """Yield the lists of ``chunks`` as they come, read up to ``depth`` ahead by a thread.

    The thread has its own database connection (Django's are per thread),
    closed when it ends. A rebuild's reads then run while the main thread
    prepares the texts of the chunk before and PostgreSQL writes the one
    before that, instead of between them. An error in the thread is raised
    here; leaving the loop early stops the thread.
    """
    results: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                results.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for chunk in chunks:
                if not put((chunk, None)):
                    return
            put((None, None))
        except BaseException as error:  # noqa: BLE001 (raised again in the main thread)
            put((None, error))
        finally:
            connections.close_all()  # this thread's connections only

    thread = threading.Thread(target=read, name="masthead-index-read", daemon=True)
    thread.start()
    try:
        while True:
            chunk, error = results.get()
            if error is not None:
                raise error
            if chunk is None:
                return
            yield chunk
    finally:
        stop.set()
        thread.join()


def vacuum_if_outside_transaction(index) -> bool:
    """On PostgreSQL, VACUUM the index table a rebuild just wrote; return True if it ran.

    A rebuilt table has no visibility map until autovacuum comes, and without
    one the typeahead's index-only scan (migration 0003) reads every row it
    tests: at 100,000 articles its p95 was 17 ms instead of 12.6 ms. VACUUM
    cannot run inside a transaction: a rebuild called inside one leaves it
    to autovacuum.
    """
    connection = getattr(index, "write_connection", None)
    if connection is None or connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    from modelsearch.conf import get_app_config

    table = get_app_config().get_model("IndexEntry")._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {connection.ops.quote_name(table)}")
    return True


def analyze_if_never_analyzed(models) -> bool:
    """On PostgreSQL, ANALYZE the database when a table of ``models`` has no statistics yet; return True if so.

    Freshly loaded tables (an import, a restore) have none until autovacuum
    comes, and the rebuild's reads are then planned blind: at 100,000
    articles the rebuild ran at 868 articles/s instead of 1,714/s. An ANALYZE
    samples a bounded number of rows per table (about a second there).
    """
    connection = connections[router.db_for_write(models[0])] if models else None
    if connection is None or connection.vendor != "postgresql":
        return False
    tables = sorted(
        {
            klass._meta.db_table
            for model in models
            for klass in (model, *model._meta.get_parent_list())
        }
    )
    if not never_analyzed(connection, tables):
        return False
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return True


def never_analyzed(connection, tables: list[str]) -> bool:
    """Return True when one of ``tables`` (PostgreSQL) has never been analyzed, by hand or by autovacuum."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_stat_user_tables WHERE relname = ANY(%s) "
            "AND last_analyze IS NULL AND last_autoanalyze IS NULL LIMIT 1",
            [tables],
        )
        return cursor.fetchone() is not None


def _chunks(queryset, size: int, batched: bool = False):
    """Yield lists of up to ``size`` objects, oldest first (``index_order``), read by key.

    The ids are read once, in that order, and each chunk by its ids, so the
    index numbers its entries by publication date: the backends take the
    highest-numbered matches as the newest (the typeahead's, and SQLite's
    recent candidates), whatever order the stories were imported in.

    With ``batched``, prefetches of one-to-many relations the search fields
    follow are dropped: Masthead's index reads those itself, one query per batch
    (``backends.indexing.load_related``), without a queryset per object, and
    the objects are read as rows of the columns the index needs
    (``backends.indexing.IndexRows``) unless the queryset asks for more.
    """
    ordered = queryset.order_by(*index_order(queryset.model)).values_list("pk", flat=True)
    ids = list(dict.fromkeys(ordered))  # a queryset joining to many rows gives a pk more than once
    queryset = queryset.order_by()
    lookups = getattr(queryset, "_prefetch_related_lookups", ())
    if lookups and batched:
        handled = _batched_relations(queryset.model)
        kept = [lookup for lookup in lookups if _lookup_root(lookup) not in handled]
        if len(kept) != len(lookups):
            queryset = queryset.prefetch_related(None).prefetch_related(*kept)
    # Masthead's index reads rows of values, not model instances (IndexRows).
    rows = IndexRows.for_queryset(queryset) if batched else None
    if rows is not None:
        queryset = rows.queryset
    for start in range(0, len(ids), size):
        wanted = ids[start : start + size]
        page = queryset.filter(pk__in=wanted)
        read = rows.read(page) if rows is not None else list(page)
        position = {pk: i for i, pk in enumerate(wanted)}
        # Once each, in the ids' order; an object gone since the ids were read is skipped.
        items = sorted({item.pk: item for item in read}.values(), key=lambda i: position[i.pk])
        if items:
            yield items


def index_order(model) -> list:
    """Return the order the index writes ``model``'s objects in: by publication date, then pk.

    Objects never published (no date) come first, as the oldest. A model
    without the date (``RECENCY_FIELD``) is written in primary-key order.
    """
    if has_fields(model, [RECENCY_FIELD]):
        return [F(RECENCY_FIELD).asc(nulls_first=True), "pk"]
    return ["pk"]


def index_sort_key(obj) -> tuple:
    """Return a key sorting objects in memory as ``index_order`` sorts them in the database."""
    published = getattr(obj, RECENCY_FIELD, None)
    return (published is not None, published, obj.pk)


def _lookup_root(lookup) -> str:
    path = lookup if isinstance(lookup, str) else lookup.prefetch_through
    return path.split("__", 1)[0]


def _batched_relations(model) -> set[str]:
    """Return the names of the RelatedFields that Masthead's index loads per batch itself."""
    from django.db.models import ManyToOneRel, OneToOneRel
    from modelsearch.index import RelatedFields

    names = set()
    for field in model.get_search_fields():
        if isinstance(field, RelatedFields):
            try:
                rel = model._meta.get_field(field.field_name)
            except Exception:  # noqa: BLE001 (a property or a typo: not batched)
                continue
            if isinstance(rel, ManyToOneRel) and not isinstance(rel, OneToOneRel):
                names.add(field.field_name)
    return names


def index_page(*, page_id: int) -> None:
    """Bring the index up to date with page ``page_id``: add or update it, or remove it if gone."""
    from wagtail.models import Page

    page = Page.objects.filter(pk=page_id).first()
    if page is None:
        return
    with transaction.atomic():
        insert_or_update_object(page.specific)


def index_remove(*, instance) -> None:
    """Remove ``instance`` from the index (called when it is deleted)."""
    remove_object(instance)
