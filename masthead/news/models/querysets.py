from django.core.cache import cache
from django.db.models import Prefetch, Q
from wagtail.images import get_image_model
from wagtail.query import PageQuerySet

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


class NewsPageQuerySet(PageQuerySet):
    def private_q(self):
        """Match pages in private sections, like Wagtail's, without a query per listing."""
        q = Q()
        for path in restricted_paths():
            q |= Q(path__startswith=path)
        return q if q else Q(pk__in=[])


class ArticlePageQuerySet(NewsPageQuerySet):
    def published(self) -> "ArticlePageQuerySet":
        """Return live, public articles, newest first."""
        return self.live().public().order_by("-first_published_at", "-pk")

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
