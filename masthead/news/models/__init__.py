from masthead.news.models.pages import (  # noqa: F401
    ArticleAuthor,
    ArticleNote,
    ArticlePage,
    ArticleTag,
    HomePage,
    SectionPage,
    StandardPage,
)
from masthead.news.models.querysets import ArticlePageQuerySet  # noqa: F401
from masthead.news.models.snippets import Author  # noqa: F401
