"""Import drafts into the archive: one transaction, through news.services."""

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from django.core.files.images import ImageFile
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone
from wagtail.images import get_image_model

from masthead.ingest.importers.base import ArticleDraft, Importer, ImportFormatError
from masthead.news import services as news
from masthead.news.models import ArticlePage, Author, HomePage, SectionPage
from masthead.search.services import index_sort_key

logger = logging.getLogger(__name__)

DEFAULT_SECTION = "News"
DEFAULT_AUTHOR = "Staff"
BATCH_SIZE = (
    250  # new articles written per bulk batch: big enough to amortise, small enough for SQLite
)
IN_MEMORY_MARK = "_masthead_bulk_written"  # set on pages whose in-memory state is what was saved
INDEX_CHUNK = 500  # pages indexed per step at the end; keeps IN lists under SQLite's limits
RELATED_REBUILD_MIN = 100  # fewer new pages are always added to related news one by one…
RELATED_REBUILD_RATIO = 10  # …more, once they are a tenth of the site, by one full rebuild


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False
    # Seconds spent per phase, for benchmarks and slow-import diagnosis: "parse"
    # (the importer), "pages" and "revisions/log" (new articles, in bulk), "updates"
    # (re-imported articles), "redirects", "reload", "search index", "references",
    # "related", and "commit" (with the work queued for it).
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.created + self.updated

    def summary(self) -> str:
        rate = (
            f", {self.total / self.seconds:.0f} articles/s" if self.seconds and self.total else ""
        )
        prefix = "Dry run, nothing saved: would have " if self.dry_run else ""
        verbs = f"created {self.created}, updated {self.updated}, skipped {self.skipped}"
        return f"{prefix}{verbs} in {self.seconds:.1f}s{rate}."


class _DryRunRollback(Exception):
    pass


def _deferred_receivers() -> list[tuple]:
    """Return (signal, receiver, sender, dispatch_uid) for the per-page work an import batches.

    Each of these would, for every imported article, index it for search, update
    related news, link "also read" picks or start a new page-cache version;
    ``_publishing_deferred`` does the same once for the whole import instead.
    """
    from wagtail.signals import page_published

    from masthead.news.signal_handlers import on_page_published as news_published
    from masthead.pagecache.signal_handlers import on_page_changed as pagecache_changed
    from masthead.related.signal_handlers import on_page_published as related_published
    from masthead.search.signal_handlers import on_page_changed as search_changed

    return [
        (page_published, search_changed, None, "masthead-search-published"),
        (page_published, related_published, None, "masthead-related-published"),
        (page_published, news_published, ArticlePage, "masthead-news-published"),
        (page_published, pagecache_changed, None, "masthead-pagecache-published"),
    ]


@contextlib.contextmanager
def _timed(report: "ImportReport", phase: str):
    started = time.perf_counter()
    try:
        yield
    finally:
        report.phases[phase] = report.phases.get(phase, 0.0) + time.perf_counter() - started


@contextlib.contextmanager
def _publishing_deferred(pages: list, others: list, report: "ImportReport"):
    """Do once for the whole import what publishing does for each page; yield in between.

    While the block runs, saves are not indexed for search or for Wagtail's
    reference index, and Masthead's ``page_published`` receivers (search,
    related news, "also read" links, page cache) are disconnected; other
    receivers still hear every page. When the block ends without an error,
    ``pages`` (the imported articles) and ``others`` (sections, authors, images
    the import saved) are indexed in bulk, related news is brought up to date
    and the page cache is made stale, all inside the caller's transaction.
    Nothing is done when the block raises: the transaction rolls back anyway.
    """
    from modelsearch.signal_handlers import post_save_signal_handler
    from wagtail.signal_handlers import disable_reference_index_auto_update

    models = [ArticlePage, SectionPage, Author]
    receivers = _deferred_receivers()
    for model in models:
        post_save.disconnect(post_save_signal_handler, sender=model)
    for signal, _receiver, sender, uid in receivers:
        signal.disconnect(sender=sender, dispatch_uid=uid)
    try:
        with disable_reference_index_auto_update():
            yield
        if pages:
            _published_in_bulk(pages, others, report)
    finally:
        for model in models:
            post_save.connect(post_save_signal_handler, sender=model)
        for signal, receiver, sender, uid in receivers:
            signal.connect(receiver, sender=sender, dispatch_uid=uid)


def _published_in_bulk(pages: list, others: list, report: "ImportReport") -> None:
    """Index ``pages`` for search and references, update related news, make the page cache stale."""
    from modelcluster.models import get_all_child_relations
    from modelsearch.backends import get_search_backends
    from modelsearch.index import insert_or_update_object

    from masthead.pagecache import tasks as pagecache_tasks
    from masthead.pagecache.services import content_version_bump

    latest = {page.pk: page for page in pages}  # a page updated later in the import: its last state
    # Oldest first, as a search rebuild writes them: the index takes its
    # highest-numbered entries as the newest, whatever the file's order.
    ids = sorted(latest, key=lambda pk: index_sort_key(latest[pk]))
    backends = list(get_search_backends(with_auto_update=True))
    # The reference index reads every child relation: one query each per chunk, not per page.
    children = [relation.get_accessor_name() for relation in get_all_child_relations(ArticlePage)]
    for start in range(0, len(ids), INDEX_CHUNK):
        chunk = [latest[pk] for pk in ids[start : start + INDEX_CHUNK]]
        with _timed(report, "reload"):
            # Pages written in bulk are indexed as they are in memory (bylines, tags, parent
            # and all); the others, and pages with picks other pages may since have resolved,
            # are read back with the model's own recipe for indexing (prefetches, annotations).
            indexable = ArticlePage.get_indexed_objects().filter(pk__in=[p.pk for p in chunk])
            kept = [p for p in chunk if _indexable_in_memory(p)]
            kept_ids = {p.pk for p in kept}
            indexed_ids = set(indexable.values_list("pk", flat=True)) if kept else set()
            fresh = [p for p in kept if p.pk in indexed_ids]
            fresh += indexable.exclude(pk__in=kept_ids).prefetch_related(*children)
        with _timed(report, "search index"):
            for backend in backends:
                backend.add_bulk(ArticlePage, fresh)
        with _timed(report, "references"):
            unindexed = {p.pk for p in chunk} - {p.pk for p in fresh}
            if unindexed:
                fresh += [p for p in kept if p.pk in unindexed]
                fresh += ArticlePage.objects.filter(pk__in=unindexed - kept_ids).prefetch_related(
                    *children
                )
            reference_index_update(fresh)
    with _timed(report, "search index"):
        for obj in others:
            insert_or_update_object(obj)
    with _timed(report, "references"):
        reference_index_update(others)
    with _timed(report, "related"):
        _related_update(ids)
    # One new page-cache version now and one purge task on commit for all the pages,
    # as masthead.pagecache does for any transaction, instead of one per page.
    content_version_bump()
    transaction.on_commit(lambda: pagecache_tasks.content_changed.enqueue(page_ids=ids))


def _indexable_in_memory(page: ArticlePage) -> bool:
    """Return True if ``page`` came from ``articles_bulk_publish`` as it is in the database.

    Such a page carries its child relations (bylines, tags) and its parent in
    memory; picks are left out, since a later article may have resolved them.
    ``indexed_section_title`` is the annotation ``get_indexed_objects`` adds.
    """
    if not getattr(page, IN_MEMORY_MARK, False) or page.related_links.all():
        return False
    page.indexed_section_title = page.get_parent().title
    return True


def _related_update(page_ids: list[int]) -> None:
    """Bring computed related news up to date for newly published ``page_ids``.

    A page at a time costs a few queries per page and per list it enters; past
    a share of the archive one pass over every page (``related_rebuild``) is
    cheaper, and leaves the same lists with fresher statistics.
    """
    from masthead.related.services import related_page_update, related_rebuild

    live = ArticlePage.objects.live().count()
    if len(page_ids) >= RELATED_REBUILD_MIN and len(page_ids) * RELATED_REBUILD_RATIO >= live:
        related_rebuild()
        return
    for page_id in page_ids:
        related_page_update(page_id=page_id)


def reference_index_update(objects: Iterable) -> None:
    """Bring Wagtail's reference index up to date for ``objects``, a few queries per model.

    Does per model what ``ReferenceIndex.create_or_update_for_object`` does per
    object: the rows come from Wagtail's own extraction, new ones are inserted
    with one ``bulk_create`` and stale ones deleted with one query. Objects of
    models the index does not track are skipped. Call inside a transaction.
    """
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from wagtail.models import ReferenceIndex

    by_model: dict[type, list] = {}
    for obj in objects:
        if obj is not None and obj.pk is not None and ReferenceIndex.is_indexed(type(obj)):
            by_model.setdefault(type(obj), []).append(obj)
    ignore = {"ignore_conflicts": True} if connection.features.supports_ignore_conflicts else {}
    for model, objs in by_model.items():
        content_types = [
            ContentType.objects.get_for_model(m, for_concrete_model=False)
            for m in [model, *model._meta.get_parent_list()]
        ]
        content_type, base_type = content_types[0], content_types[-1]
        known = {ct.id for ct in content_types}
        wanted = {
            str(obj.pk): (obj, set(ReferenceIndex._extract_references_from_object(obj)))
            for obj in objs
        }
        existing: dict[str, dict[tuple, tuple[int, int]]] = {}
        keys = list(wanted)
        for start in range(0, len(keys), INDEX_CHUNK):
            rows = ReferenceIndex.objects.filter(
                base_content_type=base_type, object_id__in=keys[start : start + INDEX_CHUNK]
            ).values_list(
                "object_id",
                "id",
                "content_type_id",
                "to_content_type",
                "to_object_id",
                "model_path",
                "content_path",
            )
            for object_id, pk, type_id, *reference in rows:
                existing.setdefault(object_id, {})[tuple(reference)] = (type_id, pk)
        new_rows, stale = [], []
        for object_id, (obj, references) in wanted.items():
            have = existing.get(object_id, {})
            for to_type_id, to_object_id, model_path, content_path in references - set(have):
                new_rows.append(
                    ReferenceIndex(
                        content_type=content_type,
                        base_content_type=base_type,
                        object_id=obj.pk,
                        to_content_type_id=to_type_id,
                        to_object_id=to_object_id,
                        model_path=model_path,
                        content_path=content_path,
                        content_path_hash=ReferenceIndex._get_content_path_hash(content_path),
                    )
                )
            # A row recorded under a more specific model may still hold: Wagtail keeps it too.
            stale += [
                pk
                for reference, (type_id, pk) in have.items()
                if reference not in references and type_id in known
            ]
        ReferenceIndex.objects.bulk_create(new_rows, batch_size=INDEX_CHUNK, **ignore)
        for start in range(0, len(stale), INDEX_CHUNK):
            ReferenceIndex.objects.filter(id__in=stale[start : start + INDEX_CHUNK]).delete()


class Progress:
    """A one-line progress bar on a terminal; silent elsewhere."""

    def __init__(self, total: int | None, stream=None, enabled: bool | None = None):
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.start = time.monotonic()
        self.done = 0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled or (self.done % 25 and self.done != self.total):
            return
        elapsed = max(time.monotonic() - self.start, 1e-6)
        rate = self.done / elapsed
        if self.total:
            width = 30
            filled = int(width * self.done / self.total)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {rate:.0f}/s ")
        else:
            self.stream.write(f"\r{self.done} articles {rate:.0f}/s ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


class _Lookups:
    """Per-import caches of sections, authors and existing articles by source id."""

    def __init__(self, default_section: str):
        self.home = news.home_get()
        self.default_section = default_section
        self.sections: dict[str, SectionPage] = {}
        self.authors: dict[str, Author] = {}
        self.appenders: dict[int, news.ChildAppender] = {}
        self.tags: dict = {}
        self.images: list = []
        # Source id → page id of every imported article, read once instead of once a draft.
        self.source_ids: dict[str, int] = dict(
            ArticlePage.objects.exclude(source_id="").values_list("source_id", "pk")
        )

    def saved(self) -> list:
        """Return the sections, authors and images this import used or created."""
        return [*self.sections.values(), *self.authors.values(), *self.images]

    def appender(self, section: SectionPage) -> news.ChildAppender:
        if section.pk not in self.appenders:
            self.appenders[section.pk] = news.ChildAppender(section)
        return self.appenders[section.pk]

    def flush(self) -> None:
        for appender in self.appenders.values():
            appender.flush()

    def section(self, name: str) -> SectionPage:
        name = name or self.default_section
        key = name.lower()
        if key not in self.sections:
            self.sections[key] = news.section_get_or_create(name=name, home=self.home)
        return self.sections[key]

    def author(self, name: str) -> Author:
        key = name.lower()
        if key not in self.authors:
            self.authors[key] = news.author_get_or_create(name=name)
        return self.authors[key]


def _local_image(url: str, base: Path, title: str):
    """Return a Wagtail image for a local path or file:// URL; None for remote or missing files."""
    parsed = urlparse(url)
    if parsed.scheme not in ("", "file"):
        return None
    path = Path(unquote(parsed.path))
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        return None
    with path.open("rb") as fh:
        return get_image_model().objects.create(
            title=title[:255], file=ImageFile(fh, name=path.name)
        )


def _body(draft: ArticleDraft):
    if draft.html:
        return news.body_from_html_paragraphs(draft.paragraphs)
    return news.body_from_paragraphs(draft.paragraphs)


def _image(draft: ArticleDraft, base_dir: Path, report: ImportReport, lookups: "_Lookups"):
    if not draft.image_url:
        return None
    image = _local_image(draft.image_url, base_dir, draft.title)
    if image is None:
        report.warnings.append(
            f"{draft.title[:60]}: image {draft.image_url} is not a local file; skipped"
        )
    else:
        lookups.images.append(image)
    return image


def redirects_save(pages_urls) -> None:
    """Point each old URL (full URL or path) at its imported page with a permanent redirect."""
    from wagtail.contrib.redirects.models import Redirect

    wanted = {}
    for page, urls in pages_urls:
        for url in urls:
            path = Redirect.normalise_path(url)
            if path and path != "/":
                wanted[path] = page
    if not wanted:
        return
    existing = {r.old_path: r for r in Redirect.objects.filter(old_path__in=wanted, site=None)}
    for path, redirect in existing.items():
        redirect.redirect_page, redirect.redirect_link, redirect.is_permanent = (
            wanted[path],
            "",
            True,
        )
    Redirect.objects.bulk_update(
        existing.values(), ["redirect_page", "redirect_link", "is_permanent"]
    )
    Redirect.objects.bulk_create(
        [
            Redirect(old_path=p, site=None, redirect_page=page, is_permanent=True)
            for p, page in wanted.items()
            if p not in existing
        ]
    )


def draft_update(
    draft: ArticleDraft,
    existing: ArticlePage,
    lookups: _Lookups,
    base_dir: Path,
    report: ImportReport,
) -> ArticlePage:
    """Update the article an earlier import created from the same source, as a new revision."""
    page, _ = news.article_save(
        section=existing.get_parent().specific,
        title=draft.title,
        body=_body(draft),
        authors=[lookups.author(name) for name in (draft.authors or [DEFAULT_AUTHOR])],
        standfirst=draft.standfirst,
        tags=draft.tags,
        published_at=draft.published,
        source_id=draft.source_id,
        featured_image=_image(draft, base_dir, report, lookups) or existing.featured_image,
        related=[(pick.headline, pick.after_paragraph) for pick in draft.related],
        existing=existing,
    )
    redirects_save([(page, draft.old_urls)])
    report.updated += 1
    return page


class _Batch:
    """New articles waiting to be written together by ``news.articles_bulk_publish``."""

    def __init__(self, lookups: _Lookups, report: ImportReport, imported: list):
        self.lookups = lookups
        self.report = report
        self.imported = imported
        self.items: list[news.NewArticle] = []
        self.source_ids: set[str] = set()
        self.old_urls: dict[str, list[str]] = {}

    def add(self, draft: ArticleDraft, base_dir: Path) -> None:
        published = draft.published or timezone.now()
        if published > timezone.now():
            # Scheduled stories go through Wagtail's own scheduling.
            self.flush()
            page, _ = news.article_save(
                section=self.lookups.section(draft.section),
                title=draft.title,
                body=_body(draft),
                authors=[self.lookups.author(n) for n in (draft.authors or [DEFAULT_AUTHOR])],
                standfirst=draft.standfirst,
                tags=draft.tags,
                published_at=published,
                source_id=draft.source_id,
                featured_image=_image(draft, base_dir, self.report, self.lookups),
                related=[(p.headline, p.after_paragraph) for p in draft.related],
            )
            self.imported.append(page)
            self.lookups.source_ids[page.source_id] = page.pk
            redirects_save([(page, draft.old_urls)])
            self.report.created += 1
            return
        section = self.lookups.section(draft.section)
        self.items.append(
            news.NewArticle(
                appender=self.lookups.appender(section),
                title=" ".join(draft.title.split())[:255],
                body=_body(draft),
                authors=[self.lookups.author(n) for n in (draft.authors or [DEFAULT_AUTHOR])],
                published_at=published,
                standfirst=draft.standfirst,
                tags=[t.strip()[:100] for t in draft.tags if t.strip()],
                source_id=draft.source_id,
                featured_image=_image(draft, base_dir, self.report, self.lookups),
                related=[(p.headline, p.after_paragraph) for p in draft.related],
            )
        )
        self.source_ids.add(draft.source_id)
        if draft.old_urls:
            self.old_urls[draft.source_id] = draft.old_urls
        if len(self.items) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.items:
            pages = news.articles_bulk_publish(
                self.items, tag_cache=self.lookups.tags, timings=self.report.phases
            )
            for page in pages:
                setattr(page, IN_MEMORY_MARK, True)
            self.imported += pages
            self.lookups.source_ids.update((p.source_id, p.pk) for p in pages)
            with _timed(self.report, "redirects"):
                redirects_save((p, self.old_urls.get(p.source_id, [])) for p in pages)
            self.old_urls = {}
            self.report.created += len(self.items)
            self.items = []
            self.source_ids = set()


def draft_save(draft: ArticleDraft, batch: _Batch, base_dir: Path) -> None:
    """Queue a new article, or update the one an earlier run imported from the same source."""
    if not draft.title.strip():
        raise ImportFormatError(draft.source_id, "an article has no headline", draft.line)
    if draft.source_id in batch.source_ids:
        batch.flush()  # the same story twice in one run: the second copy updates the first
    existing_id = batch.lookups.source_ids.get(draft.source_id) if draft.source_id else None
    if existing_id is not None:
        with _timed(batch.report, "updates"):
            existing = ArticlePage.objects.get(pk=existing_id)
            page = draft_update(draft, existing, batch.lookups, base_dir, batch.report)
        batch.imported.append(page)
    else:
        batch.add(draft, base_dir)


def _timed_drafts(drafts: Iterator[ArticleDraft], report: ImportReport) -> Iterator[ArticleDraft]:
    """Yield ``drafts``, adding the time the importer takes to produce them to "parse"."""
    while True:
        started = time.perf_counter()
        try:
            draft = next(drafts)
        except StopIteration:
            report.phases["parse"] = report.phases.get("parse", 0.0) + time.perf_counter() - started
            return
        report.phases["parse"] = report.phases.get("parse", 0.0) + time.perf_counter() - started
        yield draft


def import_articles(
    sources: Iterable[tuple[Path, Importer]],
    *,
    dry_run: bool = False,
    default_section: str = DEFAULT_SECTION,
    progress_factory: Callable[[int | None], Progress] | None = None,
) -> ImportReport:
    """Import every draft of every source in one transaction; return the report.

    Any error (a malformed file, a database error) rolls the whole import back
    and propagates, so the archive is exactly as it was.
    """
    report = ImportReport(dry_run=dry_run)
    started = time.monotonic()
    sources = list(sources)
    totals = [importer.count(path) for path, importer in sources]
    total = None if any(t is None for t in totals) else sum(totals)
    progress = (progress_factory or Progress)(total)
    imported: list[ArticlePage] = []
    others: list = []
    try:
        with transaction.atomic():
            with _publishing_deferred(imported, others, report):
                lookups = _Lookups(default_section)
                batch = _Batch(lookups, report, imported)
                for path, importer in sources:
                    for draft in _timed_drafts(importer.read(path), report):
                        draft_save(draft, batch, path.parent)
                        progress.advance()
                    # What the importer skipped or doubted goes into the report.
                    report.skipped += getattr(importer, "skipped", 0)
                    report.warnings.extend(getattr(importer, "warnings", []))
                batch.flush()
                lookups.flush()
                others += lookups.saved()
            if dry_run:
                raise _DryRunRollback
            body_done = time.perf_counter()
        # The commit, and the work queued for it (the page cache purge, other apps' tasks).
        report.phases["commit"] = time.perf_counter() - body_done
    except _DryRunRollback:
        pass
    finally:
        progress.close()
    report.seconds = time.monotonic() - started
    return report


__all__ = ["import_articles", "ImportReport", "HomePage"]
