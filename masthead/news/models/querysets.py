from django.core.cache import cache
from django.db.models import CharField, F, Func, Prefetch, Q
from django.db.models.lookups import Exact
from wagtail.images import get_image_model
from wagtail.query import PageQuerySet

from masthead.core.ordering import newest_first
from masthead.images.renditions import AUTHOR_RENDITIONS, CARD_RENDITIONS

RESTRICTED_PATHS_KEY = "masthead:restricted-paths"


def restricted_paths() -> list[str]:
    """Return the tree paths of pages with view restrictions, cached until a restriction changes."""
    paths = cache.get(RESTRICTED_PATHS_KEY)
    if paths is None:
        from wagtail.models import PageViewRestriction

        paths = list(PageViewRestriction.objects.values_list("page__path", flat=True))
        cache.set(RESTRICTED_PATHS_KEY, paths, None)
    return paths


def forget_restricted_paths(**kwargs) -> None:
    cache.delete(RESTRICTED_PATHS_KEY)


# Sections sit at depth 3 (root, front page, section): their paths have three
# of Wagtail's 4-character steps.
SECTION_PATH_LENGTH = 12


class SectionPath(Func):
    """``SUBSTR(path, 1, 12)``: the path prefix a page shares with its section.

    Indexed with the publication date (migration news 0005). The numbers are
    written into the SQL, not bound as parameters: SQLite matches an
    expression index only against the same literal expression.
    """

    function = "SUBSTR"  # SQLite's and PostgreSQL's name alike
    template = f"%(function)s(%(expressions)s, 1, {SECTION_PATH_LENGTH})"
    output_field = CharField()

    def __init__(self):
        super().__init__(F("path"))


class NewsPageQuerySet(PageQuerySet):
    def private_q(self):
        """Match pages in private sections, like Wagtail's, without a query per listing."""
        q = Q()
        for path in restricted_paths():
            q |= Q(path__startswith=path)
        return q if q else Q(pk__in=[])


class ArticlePageQuerySet(NewsPageQuerySet):
    def published(self) -> "ArticlePageQuerySet":
        """Return live, public articles, newest first.

        Ties are broken on the page table's id, so the database reads the date
        index instead of sorting the archive (see ``core.ordering``).
        """
        return self.live().public().order_by(*newest_first())

    def for_cards(self) -> "ArticlePageQuerySet":
        """Return live, public articles with what a card shows (image, bylines), newest first."""
        from masthead.news.models.pages import ArticleAuthor

        images = get_image_model().objects.prefetch_renditions(*CARD_RENDITIONS)
        return (
            self.published()
            .defer_streamfields()
            .prefetch_related(
                Prefetch("featured_image", queryset=images),
                Prefetch(
                    "article_authors",
                    queryset=ArticleAuthor.objects.select_related("author").order_by("sort_order"),
                ),
            )
        )

    def for_links(self) -> "ArticlePageQuerySet":
        """Return live, public articles with only what a headline link needs, newest first."""
        return self.published().only(
            "id", "title", "slug", "url_path", "path", "depth", "first_published_at", "draft_title"
        )

    def child_of_q(self, page) -> Q:
        """Match the children of ``page``; for a section, through the section-date index.

        Wagtail's filter (``path LIKE 'prefix%'``) cannot use an index on SQLite,
        so "the newest stories of a section whose stories are old" walked the whole
        date index (170 ms at 100,000 articles). For a page at section depth the
        same rows are matched by the path prefix expression that migration
        news 0005 indexes together with the publication date.
        """
        if len(page.path) != SECTION_PATH_LENGTH:
            return super().child_of_q(page)
        return Q(Exact(SectionPath(), page.path)) & Q(depth=page.depth + 1)

    def child_of_any(self, parents) -> "ArticlePageQuerySet":
        """Return pages whose parent is one of ``parents``; none when ``parents`` is empty."""
        q = Q(pk__in=[])
        for parent in parents:
            q |= self.child_of_q(parent)
        return self.filter(q)

    def in_section(self, section) -> "ArticlePageQuerySet":
        return self.descendant_of(section)

    def by_author(self, author) -> "ArticlePageQuerySet":
        return self.filter(article_authors__author=author)

    def tagged(self, tag) -> "ArticlePageQuerySet":
        return self.filter(tagged_items__tag=tag)


def author_queryset():
    """Return authors with their pictures and avatar renditions prefetched."""
    from masthead.news.models.snippets import Author

    images = get_image_model().objects.prefetch_renditions(*AUTHOR_RENDITIONS)
    return Author.objects.prefetch_related(Prefetch("picture", queryset=images))
