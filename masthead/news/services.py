"""Writes of the news app: importers and the demo create and update articles here.

Every write goes the way the newsroom's own edits go (``add_child``, then
``save_revision().publish()``), so revisions, the audit log, signals and the
search index see an ordinary edit.
"""

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify
from wagtail.log_actions import log
from wagtail.models import Page, Revision
from wagtail.signals import page_published

from masthead.news.models import ArticlePage, Author, HomePage, SectionPage
from masthead.news.sanitize import clean_html
from masthead.related.models import normalize_headline
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


def _publish_new(
    page: ArticlePage, appender: ChildAppender, published_at: dt.datetime, user
) -> None:
    """Save and publish a new page in one write, leaving what ``save_revision().publish()`` leaves.

    The page gets a revision that is both its latest and live one, "create"
    (logged by ``Page.save``) and "publish" entries in the audit log, and
    ``page_published`` is sent.
    """
    appender.place(page)
    page.live = True
    page.has_unpublished_changes = False
    page.first_published_at = page.last_published_at = published_at
    page.draft_title = page.title
    page.save(clean=False)
    revision = Revision.objects.create(
        content_object=page,
        base_content_type=page.get_base_content_type(),
        user=user,
        content=page.serializable_data(),
        object_str=str(page),
        created_at=published_at,
    )
    ArticlePage.objects.filter(pk=page.pk).update(latest_revision=revision, live_revision=revision)
    page.latest_revision = page.live_revision = revision
    log(instance=page, action="wagtail.publish", user=user, revision=revision, content_changed=True)
    page_published.send(sender=ArticlePage, instance=page, revision=revision)


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
    appender: ChildAppender | None = None,
) -> tuple[ArticlePage, bool]:
    """Create or update an article and publish it; return (article, created).

    ``related`` holds (headline, also_read_after) picks, resolved to existing
    articles by headline; unresolved ones wait for their article to arrive.
    A ``published_at`` in the future schedules the article instead. An
    ``appender`` for ``section`` takes the fast path for new, already-published
    articles (imports); everything else goes through ``save_revision().publish()``.
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

    if created and appender is not None and published_at <= timezone.now():
        _publish_new(page, appender, published_at, user)
        related_links_resolve(page=page)
        return page, True
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
