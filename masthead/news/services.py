"""Writes of the news app: importers and the demo create and update articles here.

Every write goes the way the newsroom's own edits go (``add_child``, then
``save_revision().publish()``), so revisions, the audit log, signals and the
search index see an ordinary edit.
"""

import datetime as dt
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify
from modelcluster.models import get_all_child_relations
from taggit.models import Tag
from wagtail.models import Locale, Page, PageLogEntry, Revision
from wagtail.signals import page_published

from masthead.news.models import (
    ArticleAuthor,
    ArticlePage,
    ArticleTag,
    Author,
    HomePage,
    SectionPage,
)
from masthead.news.sanitize import clean_html
from masthead.related.models import RelatedLink, normalize_headline
from masthead.related.services import related_links_replace, related_links_resolve

SLUG_MAX = 80  # long enough for a headline's gist, short enough for a readable URL


def _unique_slug(parent: Page, base: str, exclude_pk: int | None = None) -> str:
    """Return ``base`` (or ``base-2``, ``base-3``…) unused among ``parent``'s children."""
    base = (slugify(base)[:SLUG_MAX].strip("-")) or "article"
    taken = set(
        parent.get_children()
        .filter(slug__startswith=base)
        .exclude(pk=exclude_pk)
        .values_list("slug", flat=True)
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base[: SLUG_MAX - len(str(n)) - 1]}-{n}"
    return slug


class ChildAppender:
    """Append new pages under one parent, as ``add_child`` does, without its per-page queries.

    ``add_child`` locks the parent and looks up its last child for every insert;
    inside one import transaction the appender does that once and counts on.
    Call ``flush()`` before the transaction ends to store the parent's child count.
    """

    def __init__(self, parent: Page):
        self.parent = parent
        last = parent.get_last_child()
        self.last_path = last.path if last else None
        self.added = 0
        self._slugs: set[str] | None = None

    def unique_slug(self, title: str) -> str:
        """Return a slug for ``title`` unused under the parent (``-2``, ``-3``… on clashes)."""
        if self._slugs is None:
            self._slugs = set(self.parent.get_children().values_list("slug", flat=True))
        base = slugify(title)[:SLUG_MAX].strip("-") or "article"
        slug, n = base, 1
        while slug in self._slugs:
            n += 1
            slug = f"{base[: SLUG_MAX - len(str(n)) - 1]}-{n}"
        self._slugs.add(slug)
        return slug

    def place(self, page: Page) -> None:
        """Give ``page`` its tree position and URL path as the parent's new last child."""
        page.depth = self.parent.depth + 1
        if self.last_path is None:
            page.path = Page._get_path(self.parent.path, page.depth, 1)
        else:
            page.path = Page._get_path(
                self.parent.path, page.depth, Page._str2int(self.last_path[-Page.steplen :]) + 1
            )
        page.numchild = 0
        page._cached_parent_obj = self.parent
        page.set_url_path(self.parent)
        self.last_path = page.path
        self.added += 1

    def flush(self) -> None:
        if self.added:
            Page.objects.filter(pk=self.parent.pk).update(numchild=F("numchild") + self.added)
            self.parent.numchild += self.added
            self.added = 0


def home_get(*, home: HomePage | None = None) -> HomePage:
    """Return the front page, or raise LookupError when the site has none."""
    home = home or HomePage.objects.first()
    if home is None:
        raise LookupError("The site has no front page (HomePage); run `masthead migrate` first.")
    return home


def section_get_or_create(*, name: str, home: HomePage | None = None) -> SectionPage:
    """Return the section called ``name`` (or with that slug), creating and publishing it if needed."""
    home = home_get(home=home)
    slug = slugify(name) or "news"
    section = (
        SectionPage.objects.child_of(home).filter(Q(slug=slug) | Q(title__iexact=name)).first()
    )
    if section is None:
        section = home.add_child(instance=SectionPage(title=name, slug=slug))
        section.save_revision().publish()
        home.__dict__.pop("sections", None)
    return section


def author_get_or_create(*, name: str) -> Author:
    """Return the author with this name (case-insensitive), creating one if needed."""
    name = " ".join(name.split())[:120] or "Staff"
    author = Author.objects.filter(name__iexact=name).first()
    if author is None:
        base = slugify(name)[:100] or "author"
        slug, n = base, 1
        while Author.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        author = Author.objects.create(name=name, slug=slug)
    return author


def article_find_by_headline(headline: str, *, exclude_pk: int | None = None) -> ArticlePage | None:
    """Return the live article with this headline: exact match first, then case- and punctuation-insensitive."""
    qs = ArticlePage.objects.live().exclude(pk=exclude_pk)
    exact = qs.filter(title=headline).order_by("-first_published_at").first()
    if exact is not None:
        return exact
    key = normalize_headline(headline)
    words = sorted(key.split(), key=len, reverse=True)
    if not words:
        return None
    for candidate in qs.filter(title__icontains=words[0]).only("id", "title").iterator():
        if normalize_headline(candidate.title) == key:
            return ArticlePage.objects.get(pk=candidate.pk)
    return None


def body_from_paragraphs(paragraphs: Iterable[str]) -> list[tuple[str, object]]:
    """Return StreamField data for plain paragraphs: "## x" becomes a subhead, "> x — Name" a quote."""
    from django.utils.html import escape

    blocks: list[tuple[str, object]] = []
    for text in paragraphs:
        text = text.strip()
        if not text:
            continue
        if text.startswith("## "):
            blocks.append(("heading", text[3:].strip()))
        elif text.startswith("> "):
            quote, _, who = text[2:].partition(" — ")
            blocks.append(("quote", {"quote": quote.strip(), "attribution": who.strip()}))
        else:
            blocks.append(("paragraph", f"<p>{escape(text)}</p>"))
    return blocks


def body_from_html_paragraphs(paragraphs: Iterable[str]) -> list[tuple[str, object]]:
    """Return StreamField data for HTML paragraphs, each sanitized."""
    return [("paragraph", clean_html(p)) for p in paragraphs if clean_html(p)]


@transaction.atomic
def article_save(
    *,
    section: SectionPage,
    title: str,
    body: Sequence[tuple[str, object]],
    authors: Sequence[Author],
    standfirst: str = "",
    tags: Sequence[str] = (),
    published_at: dt.datetime | None = None,
    source_id: str = "",
    featured_image=None,
    featured_image_caption: str = "",
    related: Sequence[tuple[str, int | None]] = (),
    existing: ArticlePage | None = None,
    user=None,
) -> tuple[ArticlePage, bool]:
    """Create or update an article and publish it; return (article, created).

    ``related`` holds (headline, also_read_after) picks, resolved to existing
    articles by headline; unresolved ones wait for their article to arrive.
    A ``published_at`` in the future schedules the article instead.
    """
    title = " ".join(title.split())[:255]
    if not title:
        raise ValueError("An article needs a headline.")
    published_at = published_at or timezone.now()
    if timezone.is_naive(published_at):
        published_at = timezone.make_aware(published_at, dt.UTC)
    created = existing is None
    if created:
        page = ArticlePage(
            title=title,
            slug=_unique_slug(section, title),
            source_id=source_id,
            first_published_at=published_at if published_at <= timezone.now() else None,
        )
    else:
        page = existing
        page.title = title
    page.standfirst = standfirst[:300]
    page.body = list(body)
    page.featured_image = featured_image
    page.featured_image_caption = featured_image_caption[:500]
    from masthead.news.models import ArticleAuthor

    page.article_authors.set(
        [
            ArticleAuthor(author=author, sort_order=i)
            for i, author in enumerate(dict.fromkeys(authors))
        ]
    )
    page.tags.set([t[:100] for t in dict.fromkeys(t.strip() for t in tags) if t])
    picks = []
    for headline, after in related:
        target = article_find_by_headline(headline, exclude_pk=page.pk)
        picks.append((target, headline, after))
    related_links_replace(page=page, picks=picks)

    if created:
        section.add_child(instance=page)
    if published_at > timezone.now():
        page.go_live_at = published_at
    revision = page.save_revision(user=user, log_action=True)
    revision.publish(user=user)
    page.refresh_from_db()
    if created and published_at <= timezone.now():
        # An imported story keeps its own date as its last publication too.
        ArticlePage.objects.filter(pk=page.pk).update(last_published_at=published_at)
        page.last_published_at = published_at
    related_links_resolve(page=page)
    return page, created


@dataclass
class NewArticle:
    """An article to create and publish in bulk (see ``articles_bulk_publish``)."""

    appender: ChildAppender
    title: str
    body: Sequence[tuple[str, object]]
    authors: Sequence[Author]
    published_at: dt.datetime
    standfirst: str = ""
    tags: Sequence[str] = ()
    source_id: str = ""
    featured_image: object = None
    related: Sequence[tuple[str, int | None]] = ()


def _tags_get_or_create(names: set[str], cache: dict[str, Tag]) -> None:
    """Fill ``cache`` (lower-cased name → Tag) for ``names`` with one query, creating missing tags."""
    missing = {n for n in names if n.lower() not in cache}
    if not missing:
        return
    lookup = Q()
    for name in missing:
        lookup |= Q(name__iexact=name)
    for tag in Tag.objects.filter(lookup):
        cache[tag.name.lower()] = tag
    for name in sorted(missing):
        if name.lower() not in cache:
            slug = base = slugify(name)[:90] or "tag"
            n = 1
            while Tag.objects.filter(slug=slug).exists():
                n += 1
                slug = f"{base}-{n}"
            cache[name.lower()] = Tag.objects.create(name=name, slug=slug)


def _resolve_picks_naming(pages: Sequence[ArticlePage]) -> None:
    """Point pending picks at the new pages whose headlines they name (one query per batch)."""
    by_key = {normalize_headline(page.title): page for page in pages}
    pending = RelatedLink.objects.filter(target__isnull=True, target_key__in=list(by_key))
    for link in pending.only("id", "page_id", "target_key"):
        target = by_key[link.target_key]
        if link.page_id != target.pk:
            RelatedLink.objects.filter(pk=link.pk).update(target=target, target_key="")


def _stream_json(stream_block, blocks: Sequence[tuple[str, object]]) -> list[dict]:
    """Return the JSON a StreamField stores for ``blocks`` ((type, value) pairs), with new ids.

    Every value goes through its block's ``normalize`` and ``get_prep_value``
    (a sanitizing paragraph block sanitizes), except text for a block that
    keeps Wagtail's own ``get_prep_value``, which would store the text as it
    is. An unknown block type raises KeyError.
    """
    from wagtail.blocks import Block, RichTextBlock

    stored_as_is = (Block.get_prep_value, RichTextBlock.get_prep_value)
    data = []
    for block_type, value in blocks:
        block = stream_block.child_blocks[block_type]
        if not (isinstance(value, str) and type(block).get_prep_value in stored_as_is):
            value = block.get_prep_value(block.normalize(value))
        data.append({"type": block_type, "value": value, "id": str(uuid.uuid4())})
    return data


def _insert_returning_pks(model, objs: Sequence) -> list[int]:
    """Insert the ``model`` table's row of each of ``objs`` (instances of it or of a subclass); return the new ids.

    ``bulk_create`` refuses multi-table subclasses and builds a copy of each
    object; this inserts the base rows straight from the page objects.
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    manager = model._base_manager
    batch = connection.ops.bulk_batch_size(fields, objs) or len(objs)
    pks = []
    for start in range(0, len(objs), batch):
        rows = manager._insert(
            objs[start : start + batch], fields=fields, returning_fields=[model._meta.pk]
        )
        pks += [row[0] for row in rows]
    return pks


def _revisions_point(pages: Sequence[ArticlePage]) -> None:
    """Store each page's latest and live revision with one executemany UPDATE.

    ``bulk_update`` builds a CASE expression per row, which costs more than the
    rows it writes.
    """
    meta = Page._meta
    quote = connection.ops.quote_name
    latest, live = meta.get_field("latest_revision").column, meta.get_field("live_revision").column
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(meta.db_table)} SET {quote(latest)} = %s, {quote(live)} = %s"
            f" WHERE {quote(meta.pk.column)} = %s",
            [(p.latest_revision_id, p.live_revision_id, p.pk) for p in pages],
        )


def articles_bulk_publish(
    items: Sequence[NewArticle],
    *,
    tag_cache: dict | None = None,
    user=None,
    timings: dict[str, float] | None = None,
) -> list[ArticlePage]:
    """Create and publish many new articles with a handful of queries per batch; return them.

    Leaves exactly what ``article_save`` leaves for a new, already-published
    article: tree position, a revision that is latest and live, "create" and
    "publish" audit-log entries, bylines, tags, editor picks, and
    ``page_published`` sent for each. Callers run it inside a transaction and
    index the pages for search afterwards (search, reference index). Seconds
    spent are added to ``timings`` under "pages" and "revisions/log" when given.
    """
    if not items:
        return []
    started = time.perf_counter()
    tag_cache = {} if tag_cache is None else tag_cache
    _tags_get_or_create({t for item in items for t in item.tags}, tag_cache)
    page_type = ContentType.objects.get_for_model(ArticlePage)
    base_type = ContentType.objects.get_for_model(Page)
    locale = Locale.get_default()
    now = timezone.now()
    body_block = ArticlePage._meta.get_field("body").stream_block

    pages = []
    for item in items:
        page = ArticlePage(
            title=item.title,
            draft_title=item.title,
            slug=item.appender.unique_slug(item.title),
            content_type=page_type,
            locale=locale,
            live=True,
            has_unpublished_changes=False,
            first_published_at=item.published_at,
            last_published_at=item.published_at,
            standfirst=item.standfirst[:300],
            # The body's JSON (block ids included) once: the page row and its revision then
            # store it as it is instead of converting every block again for each.
            body=_stream_json(body_block, item.body),
            featured_image=item.featured_image,
            source_id=item.source_id,
        )
        item.appender.place(page)
        pages.append(page)

    # Multi-table inheritance: the base rows first (to get ids), then the article rows.
    for page, pk in zip(pages, _insert_returning_pks(Page, pages), strict=True):
        page.pk = page.id = page.page_ptr_id = pk
        page._state.adding = False
    article_fields = [f for f in ArticlePage._meta.local_concrete_fields]
    ArticlePage.objects._insert(pages, fields=article_fields, using=ArticlePage.objects.db)

    bylines, tagged, picks = [], [], []
    for page, item in zip(pages, items, strict=True):
        page_bylines = [
            ArticleAuthor(page=page, author=author, sort_order=i)
            for i, author in enumerate(dict.fromkeys(item.authors))
        ]
        page_tags = [
            ArticleTag(content_object=page, tag=tag_cache[t.lower()])
            for t in dict.fromkeys(item.tags)
        ]
        page_picks = []
        for i, (headline, after) in enumerate(item.related):
            target = article_find_by_headline(headline)
            page_picks.append(
                RelatedLink(
                    page=page,
                    target=target,
                    target_headline="" if target else headline,
                    target_key="" if target else normalize_headline(headline),
                    also_read_after=after,
                    sort_order=i,
                )
            )
        # The revision records the page with its bylines, tags and picks, as the editor would;
        # every other child relation of a new page is empty, which spares a query each.
        for relation in get_all_child_relations(ArticlePage):
            getattr(page, relation.get_accessor_name()).set([])
        page.article_authors.set(page_bylines)
        page.tagged_items.set(page_tags)
        page.related_links.set(page_picks)
        bylines += page_bylines
        tagged += page_tags
        picks += page_picks
    ArticleAuthor.objects.bulk_create(bylines)
    ArticleTag.objects.bulk_create(tagged)
    RelatedLink.objects.bulk_create(picks)
    _resolve_picks_naming(pages)
    halfway = time.perf_counter()

    revisions = Revision.objects.bulk_create(
        [
            Revision(
                content_type=page_type,
                base_content_type=base_type,
                object_id=str(page.pk),
                created_at=page.first_published_at,
                user=user,
                object_str=page.title,
                content=page.serializable_data(),
            )
            for page in pages
        ]
    )
    for page, revision in zip(pages, revisions, strict=True):
        page.latest_revision = page.live_revision = revision
    _revisions_point(pages)
    PageLogEntry.objects.bulk_create(
        [
            PageLogEntry(
                page=page,
                content_type=page_type,
                label=page.title,
                action=action,
                timestamp=now,
                user=user,
                revision=revision if action == "wagtail.publish" else None,
                content_changed=True,
            )
            for page, revision in zip(pages, revisions, strict=True)
            for action in ("wagtail.create", "wagtail.publish")
        ]
    )
    for page, revision in zip(pages, revisions, strict=True):
        page_published.send(sender=ArticlePage, instance=page, revision=revision)
    if timings is not None:
        done = time.perf_counter()
        timings["pages"] = timings.get("pages", 0.0) + halfway - started
        timings["revisions/log"] = timings.get("revisions/log", 0.0) + done - halfway
    return pages
