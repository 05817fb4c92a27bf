"""Search settings (``MASTHEAD_SEARCH_*``); read them with ``conf.get`` inside functions."""

from masthead.core.conf import declare

declare(
    "MASTHEAD_SEARCH_MODEL",
    "news.ArticlePage",
    "The page model (app_label.ModelName) that /search/ and /search/suggest/ look in.",
)
declare(
    "MASTHEAD_SEARCH_RECENCY_HALF_LIFE_DAYS",
    30.0,
    "Age in days at which a story's recency boost has halved; 0 turns the boost off.",
)
declare(
    "MASTHEAD_SEARCH_RECENCY_WEIGHT",
    1.0,
    "How much a brand-new story gains over an old one of equal text score (1.0 = up to twice the score).",
)
declare(
    "MASTHEAD_SEARCH_AUTHOR_LOOKUP",
    "article_authors__author__slug",
    "ORM lookup from the search model to an author's slug, for the ?author= filter.",
)
declare(
    "MASTHEAD_SEARCH_TAG_LOOKUP",
    "tagged_items__tag__slug",
    "ORM lookup from the search model to a tag's slug, for the ?tag= filter.",
)
