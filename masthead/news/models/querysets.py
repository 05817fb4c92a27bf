from django.db.models import Prefetch
from wagtail.images import get_image_model
from wagtail.query import PageQuerySet

from masthead.images.renditions import AUTHOR_RENDITIONS, CARD_RENDITIONS


class ArticlePageQuerySet(PageQuerySet):
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
