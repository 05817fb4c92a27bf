"""Reads of the search app, on any Wagtail page model: the results page and the typeahead.

The model searched is ``MASTHEAD_SEARCH_MODEL`` (``news.ArticlePage``); this app
imports no Masthead page model. Sections are the live children of the site's
root page, found through the page tree. ``querysets`` holds the filters and the
querysets searches run on, ``results`` builds the results page, ``suggest`` the
typeahead's JSON.
"""

from masthead.search.selectors.querysets import SearchFilters, search_backend, search_model
from masthead.search.selectors.results import SearchOutcome, search_page
from masthead.search.selectors.suggest import (
    search_suggest,
    suggestions_from_pages,
    suggestions_from_pks,
)

__all__ = [
    "SearchFilters",
    "SearchOutcome",
    "search_backend",
    "search_model",
    "search_page",
    "search_suggest",
    "suggestions_from_pages",
    "suggestions_from_pks",
]
