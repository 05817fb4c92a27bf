"""The querysets a search runs on: the search model's live, public pages under a site, filtered.

``search_querysets`` builds them once per site and filters and keeps them (they
are never evaluated), so that neither they nor the SQL the backends compile
from them are made again for every reader's search.
"""

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.apps import apps
from django.db import connections, router
from django.db.models import Q
from django.utils.text import slugify
from modelsearch.backends import get_search_backend
from wagtail.models import Page, PageViewRestriction

from masthead.core import conf
from masthead.search import conf as _search_conf  # noqa: F401  (declares the settings)
from masthead.search.backends.base import JOIN_QUERYSET

QUERYSET_MEMO_SIZE = 64  # (site, filters) combinations whose querysets are kept compiled
DATE_FORMAT = "%Y-%m-%d"
PATH_END = "~"  # sorts after every character of a page path (treebeard's alphabet: 0-9, A-Z)


def search_model():
    """Return the page model readers search (``MASTHEAD_SEARCH_MODEL``)."""
    return apps.get_model(conf.get("MASTHEAD_SEARCH_MODEL"))


def search_backend():
    """Return the default search backend (Masthead's unless the project chose another)."""
    return get_search_backend("default")


@dataclass(frozen=True)
class SearchFilters:
    """Filters given as URL parameters; a value that is not valid is simply absent."""

    section: str = ""
    author: str = ""
    tag: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    PARAMS = ("section", "author", "tag", "from", "to")

    @classmethod
    def from_params(cls, params) -> "SearchFilters":
        """Return the filters in a QueryDict; bad slugs and dates are dropped, never raised."""

        def slug(name):
            value = (params.get(name) or "")[:100]
            return value if value and slugify(value) == value else ""

        def date(name):
            try:
                return dt.datetime.strptime((params.get(name) or "")[:10], DATE_FORMAT).date()
            except ValueError:
                return None

        return cls(slug("section"), slug("author"), slug("tag"), date("from"), date("to"))

    def as_params(self) -> dict[str, str]:
        values = {
            "section": self.section,
            "author": self.author,
            "tag": self.tag,
            "from": self.date_from.strftime(DATE_FORMAT) if self.date_from else "",
            "to": self.date_to.strftime(DATE_FORMAT) if self.date_to else "",
        }
        return {k: v for k, v in values.items() if v}

    def __bool__(self) -> bool:
        return bool(self.as_params())


def filtered_queryset(
    *, root: Page | None, filters: SearchFilters, sections: list[Page], base=None
):
    """Return live, public pages of the search model under ``root``, narrowed by ``filters``.

    With ``base`` (``Page``), the same filters on that model's queryset: it then
    holds pages of any type (author and tag still select search model ids).
    """
    model = search_model()
    queryset = (base or model).objects.live().public()
    if root is not None:
        queryset = queryset.filter(descendant_q(root))
    if filters.section:
        section = next((s for s in sections if s.slug == filters.section), None)
        queryset = queryset.filter(descendant_q(section)) if section else queryset.none()
    # Author and tag go through pk__in: search backends only filter on FilterFields.
    if filters.author:
        lookup = conf.get("MASTHEAD_SEARCH_AUTHOR_LOOKUP")
        queryset = queryset.filter(
            pk__in=model.objects.filter(**{lookup: filters.author}).values("pk")
        )
    if filters.tag:
        lookup = conf.get("MASTHEAD_SEARCH_TAG_LOOKUP")
        queryset = queryset.filter(
            pk__in=model.objects.filter(**{lookup: filters.tag}).values("pk")
        )
    if filters.date_from:
        start = dt.datetime.combine(filters.date_from, dt.time.min, tzinfo=dt.UTC)
        queryset = queryset.filter(first_published_at__gte=start)
    if filters.date_to:
        end = dt.datetime.combine(
            filters.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC
        )
        queryset = queryset.filter(first_published_at__lt=end)
    return queryset


def descendant_q(page: Page) -> Q:
    """Return Wagtail's ``descendant_of(page)`` filter with the path prefix as a range, not a LIKE.

    A path starts with P exactly when P <= path < P + PATH_END: paths compare
    byte by byte (SQLite's BINARY collation, and the C collation Wagtail gives
    the column on PostgreSQL), and PATH_END sorts after every path character.
    The search statements test this on every match they count (up to 500): on
    SQLite, two comparisons cost less than a LIKE with ESCAPE, about a tenth of
    the ranked statement at 100k stories.
    """
    return Q(path__gte=page.path, path__lt=page.path + PATH_END, depth__gte=page.depth) & ~Q(
        pk=page.pk
    )


@dataclass(frozen=True)
class SearchQuerysets:
    """The querysets one search runs on: never evaluated, so they can be kept and reused.

    ``filtered`` is what ``filtered_queryset`` returns; ``shown`` the same with
    StreamFields deferred (what hits load); ``newest`` that, newest first.
    """

    filtered: object
    shown: object
    newest: object


_querysets: OrderedDict = OrderedDict()
_querysets_lock = threading.Lock()


def search_querysets(
    *, root: Page | None, filters: SearchFilters, sections: list[Page]
) -> SearchQuerysets:
    """Return the querysets for this site and these filters, built once and then reused.

    Building a page queryset (live, public, under the root, the filters) and
    compiling it to SQL costs more Python than a search's own SQL takes to run,
    and the same site and filters always give the same SQL; the backends cache
    that SQL on the queryset (``backends.base.joined_queryset_sql``). The key
    holds everything the SQL is made of: the model, the root's and the chosen
    section's paths, the filters, and the paths of the view restrictions that
    ``public()`` excludes (read on every call, one small query), so a new
    restriction or a moved section makes a new entry.
    """
    model = search_model()
    section = next((s for s in sections if s.slug == filters.section), None)
    restricted = _restricted_paths()
    key = (
        model,
        (root.path, root.depth) if root is not None else None,
        filters,
        (section.path, section.depth) if section is not None else None,
        restricted,
    )
    with _querysets_lock:
        found = _querysets.get(key)
        if found is not None:
            _querysets.move_to_end(key)
            return found
    filtered = filtered_queryset(root=root, filters=filters, sections=sections)
    shown = filtered.defer_streamfields() if hasattr(filtered, "defer_streamfields") else filtered
    found = SearchQuerysets(filtered, shown, shown.order_by("-first_published_at"))
    if issubclass(model, Page) and model is not Page:
        # Every filter is on the page table (or a subquery of ids): the backends may join
        # the matches to the same filters on Page and skip the model's own table.
        pages = filtered_queryset(root=root, filters=filters, sections=sections, base=Page)
        for queryset in (found.filtered, found.shown):
            setattr(queryset, JOIN_QUERYSET, pages)
        setattr(found.newest, JOIN_QUERYSET, pages.order_by("-first_published_at"))
    with _querysets_lock:
        _querysets[key] = found
        while len(_querysets) > QUERYSET_MEMO_SIZE:
            _querysets.popitem(last=False)
    return found


def _restricted_paths() -> tuple:
    """Return the (path, depth) of every page with a view restriction, in path order (one query)."""
    connection = connections[router.db_for_read(PageViewRestriction)]
    qn = connection.ops.quote_name
    restrictions, pages = PageViewRestriction._meta, Page._meta
    # Written by hand: asked by every search, and a queryset costs more to compile than to run.
    # Sorted in Python: an ORDER BY path would lead SQLite to walk every page in path order.
    sql = (
        f"SELECT p.{qn('path')}, p.{qn('depth')} FROM {qn(restrictions.db_table)} r "  # noqa: S608
        f"JOIN {qn(pages.db_table)} p ON p.{qn(pages.pk.column)} = "
        f"r.{qn(restrictions.get_field('page').column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(sorted(cursor.fetchall()))
