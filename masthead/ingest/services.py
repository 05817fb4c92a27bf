"""Import drafts into the archive: one transaction, through news.services."""

import contextlib
import logging
import sys
import time
from collections.abc import Callable, Iterable
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

logger = logging.getLogger(__name__)

DEFAULT_SECTION = "News"
DEFAULT_AUTHOR = "Staff"
BATCH_SIZE = (
    250  # new articles written per bulk batch: big enough to amortise, small enough for SQLite
)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False

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


@contextlib.contextmanager
def _search_index_deferred(pages: list):
    """Skip per-save search indexing while importing; index the imported pages once at the end.

    Each article is saved three times on its way to being published; indexing it
    once, in bulk, is what makes large imports fast.
    """
    from modelsearch.backends import get_search_backends
    from modelsearch.signal_handlers import post_save_signal_handler
    from wagtail.models import ReferenceIndex
    from wagtail.signal_handlers import disable_reference_index_auto_update

    models = [ArticlePage, SectionPage, Author]
    for model in models:
        post_save.disconnect(post_save_signal_handler, sender=model)
    try:
        with disable_reference_index_auto_update():
            yield
        if pages:
            # Prefetch what the index and the reference index read, instead of a query per page.
            fresh = list(
                ArticlePage.objects.filter(pk__in=[p.pk for p in pages]).prefetch_related(
                    "tags",
                    "tagged_items",
                    "article_authors__author",
                    "related_links",
                    "wagtail_admin_comments",
                )
            )
            for backend in get_search_backends(with_auto_update=True):
                backend.add_bulk(ArticlePage, fresh)
            for page in fresh:
                ReferenceIndex.create_or_update_for_object(page)
    finally:
        for model in models:
            post_save.connect(post_save_signal_handler, sender=model)


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


def _image(draft: ArticleDraft, base_dir: Path, report: ImportReport):
    if not draft.image_url:
        return None
    image = _local_image(draft.image_url, base_dir, draft.title)
    if image is None:
        report.warnings.append(
            f"{draft.title[:60]}: image {draft.image_url} is not a local file; skipped"
        )
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
        featured_image=_image(draft, base_dir, report) or existing.featured_image,
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
                featured_image=_image(draft, base_dir, self.report),
                related=[(p.headline, p.after_paragraph) for p in draft.related],
            )
            self.imported.append(page)
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
                featured_image=_image(draft, base_dir, self.report),
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
            pages = news.articles_bulk_publish(self.items, tag_cache=self.lookups.tags)
            self.imported += pages
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
    existing = ArticlePage.objects.filter(source_id=draft.source_id).first()
    if existing is not None:
        batch.imported.append(draft_update(draft, existing, batch.lookups, base_dir, batch.report))
    else:
        batch.add(draft, base_dir)


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
    try:
        with transaction.atomic():
            with _search_index_deferred(imported):
                lookups = _Lookups(default_section)
                batch = _Batch(lookups, report, imported)
                for path, importer in sources:
                    for draft in importer.read(path):
                        draft_save(draft, batch, path.parent)
                        progress.advance()
                    # What the importer skipped or doubted goes into the report.
                    report.skipped += getattr(importer, "skipped", 0)
                    report.warnings.extend(getattr(importer, "warnings", []))
                batch.flush()
                lookups.flush()
            if dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        pass
    finally:
        progress.close()
    report.seconds = time.monotonic() - started
    return report


__all__ = ["import_articles", "ImportReport", "HomePage"]
