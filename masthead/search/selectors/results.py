"""The results page: filters, chips, ranked hits with snippets and "did you mean".

The model searched is ``MASTHEAD_SEARCH_MODEL`` (``news.ArticlePage``); this app
imports no Masthead page model. Sections are the live children of the site's
root page, found through the page tree.
"""

import datetime as dt
import functools
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections, router
from django.utils.dateparse import parse_datetime
from wagtail.models import Page

from masthead.search.backends.base import COUNT_LIMIT, MastheadSearchMixin, has_fields
from masthead.search.backends.indexing import row_builder
from masthead.search.highlight import Marker
from masthead.search.query import ReaderQuery, parse
from masthead.search.selectors.querysets import (
    SearchFilters,
    search_backend,
    search_model,
    search_querysets,
)
from masthead.search.vocabulary import fold, likely_corrections, tokens

RESULTS_PER_PAGE = 20
LATEST_LIMIT = 5  # stories offered by the empty state
ORDERS = ("relevance", "newest")


@dataclass
class Chip:
    """One active filter, shown on the results page with a link that removes it."""

    label: str
    value: str
    remove_params: dict

    @property
    def remove_url(self) -> str:
        return "?" + urlencode(self.remove_params)


@dataclass
class Hit:
    page: Page
    headline: str
    snippet: str
    section: Page | None


@dataclass
class SearchOutcome:
    query: ReaderQuery
    filters: SearchFilters
    order: str
    hits: list[Hit] = field(default_factory=list)
    page: object = None  # the Paginator page (count, numbers, has_next…)
    count: int = 0
    did_you_mean: str = ""
    chips: list[Chip] = field(default_factory=list)
    latest: list[Page] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    sections: list[Page] = field(default_factory=list)
    count_more: bool = False  # more than ``count`` results; counting stopped at COUNT_LIMIT

    @property
    def count_text(self) -> str:
        """Return "1 story", "25 stories" or "1,000+ stories"."""
        plus = "+" if self.count_more else ""
        noun = "story" if self.count == 1 and not plus else "stories"
        return f"{self.count:,}{plus} {noun}"


class CappedResults:
    """Search results for a Paginator whose count stops at ``limit`` (a count is a scan).

    ``more`` says whether there were more; pages past the limit are not offered.
    """

    def __init__(self, results, limit: int):
        self.results, self.limit = results, limit
        self.more = False
        self._count = None

    def count(self) -> int:
        if self._count is None:
            at_most = getattr(self.results, "count_at_most", None)
            found = at_most(self.limit + 1) if at_most else self.results.count()
            self.more = found > self.limit
            self._count = min(found, self.limit)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        return self.results[key]


def site_sections(root: Page | None) -> list[Page]:
    """Return the live sections (children of the site's root page), in menu order."""
    if root is None:
        return []
    # A front page that lists its sections (Masthead's HomePage.sections) knows them
    # cheaply; a tree query by depth reads every page's path on a big site.
    sections = getattr(root, "sections", None)
    if sections is not None:
        return list(sections)
    return list(root.get_children().live().public().order_by("path"))


def parent_pages(pages, known=()) -> dict:
    """Return path → parent page for the given pages (``known`` pages first, then one query)."""
    paths = {page.path[: -page.steplen] for page in pages}
    found = {p.path: p for p in known if p.path in paths}
    missing = paths - set(found)
    if missing:
        found.update((p.path, p) for p in Page.objects.filter(path__in=missing))
    return found


def filter_chips(filters: SearchFilters, sections: list[Page], query_text: str) -> list[Chip]:
    """Return a chip per active filter; each removes only its own parameter."""
    params = filters.as_params()
    names = {"section": "Section", "author": "Author", "tag": "Tag", "from": "From", "to": "To"}
    section_titles = {s.slug: s.title for s in sections}
    chips = []
    for key, value in params.items():
        remaining = {k: v for k, v in params.items() if k != key}
        if query_text:
            remaining = {"q": query_text, **remaining}
        shown = section_titles.get(value, value) if key == "section" else value
        if key in ("author", "tag"):
            shown = value.replace("-", " ")
        chips.append(Chip(names[key], shown, remaining))
    return chips


def search_page(
    *,
    text: str,
    filters: SearchFilters | None = None,
    order: str = "relevance",
    page_number=None,
    root: Page | None = None,
    per_page: int = RESULTS_PER_PAGE,
) -> SearchOutcome:
    """Return one page of results for the reader's text, with "Did you mean" and filter chips.

    Any text gives an outcome: an empty or unusable query has no hits (the
    empty state) and a bad page number gives a valid page.
    """
    filters = filters or SearchFilters()
    order = order if order in ORDERS else "relevance"
    query = parse(text)
    sections = site_sections(root)
    outcome = SearchOutcome(
        query=query,
        filters=filters,
        order=order,
        notices=list(query.notices),
        sections=sections,
        chips=filter_chips(filters, sections, query.text),
    )
    if query.dropped:
        outcome.notices.append(
            "Filters typed into the box (" + ", ".join(query.dropped) + ") were ignored; "
            "use the filters below the search box."
        )
    querysets = search_querysets(root=root, filters=filters, sections=sections)
    queryset = querysets.filtered
    search_query = query.to_search_query()
    backend = search_backend()
    if search_query is not None:
        if order == "newest":
            results = backend.search(search_query, querysets.newest, order_by_relevance=False)
        else:
            results = backend.search(search_query, querysets.shown)
        plan = getattr(results, "plan_page", None)
        if plan is not None:
            # The count comes first (the paginator); the backend may rank this page with it.
            number = _page_number(page_number)
            plan((number - 1) * per_page, number * per_page)
        capped = CappedResults(results, COUNT_LIMIT)
        paginated = Paginator(capped, per_page).get_page(page_number)
        outcome.page = paginated
        outcome.count = paginated.paginator.count
        outcome.count_more = capped.more
        pages = _page_objects(paginated.object_list)
        texts = _indexed_texts(pages, backend)
        outcome.hits = _hits(pages, query, backend, sections, texts)
        outcome.did_you_mean = _did_you_mean(query, queryset, backend, texts.values())
    if not outcome.count:
        outcome.latest = list(
            search_model().objects.live().public().order_by("-first_published_at")[:LATEST_LIMIT]
        )
    return outcome


def _page_number(value) -> int:
    """Return the page number asked for, or 1 when it is not a positive whole number."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return number if number > 0 else 1


# Fields a results page reads from a hit's page (headline, URL, date, section, snippet);
# the rest stay deferred and load on access, as the body already does.
HIT_FIELDS = ("path", "depth", "url_path", "title", "first_published_at", "content_type")
HIT_EXTRA_FIELDS = ("standfirst",)  # read when the search model has them


def _page_objects(results) -> list[Page]:
    """Return the pages of a slice of search results, best first, built from the fields a hit shows.

    Masthead's backends give the ranked ids and ``load_pages`` reads the rows
    in one hand-written query; otherwise the results load themselves.
    """
    ranked_pks = getattr(results, "ranked_pks", None)
    model = getattr(getattr(results, "query_compiler", None), "queryset", None)
    model = getattr(model, "model", None)
    if ranked_pks is not None and model is not None and issubclass(model, Page):
        pks = ranked_pks()
        if pks is not None:
            return load_pages(model, pks)
    return list(results)


def load_pages(model, pks: list) -> list:
    """Return instances of the page ``model`` for ``pks`` (in that order), gone ones skipped.

    Only HIT_FIELDS (and HIT_EXTRA_FIELDS the model has) are read, in one
    SELECT joining the model's tables by id; every other field is deferred and
    loads on access, as with ``.only()``. No queryset is compiled and no
    filter applied: the pks come from a search of the caller's queryset.
    """
    if not pks:
        return []
    alias = router.db_for_read(model)
    select, names, at, build = _load_plan(model, alias)
    to_datetime = datetime_converter(connections[alias])
    sql = f"{select} IN ({', '.join(['%s'] * len(pks))})"
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, list(pks))
        rows = cursor.fetchall()
    pages = {}
    for row in rows:
        if at is not None:
            row = list(row)
            row[at] = to_datetime(row[at])
        page = build(row)
        pages[page.pk] = page
    return [pages[pk] for pk in pks if pk in pages]


@functools.lru_cache(maxsize=32)
def _load_plan(model, alias: str):
    """Return (SQL up to "p.id", attnames, index of the date, row builder) for ``load_pages``."""
    connection = connections[alias]
    qn = connection.ops.quote_name
    opts = model._meta
    wanted = {"id", *HIT_FIELDS, *(f for f in HIT_EXTRA_FIELDS if has_fields(model, [f]))}
    page_table = Page._meta.db_table
    tables, columns, names = {page_table: "p"}, [], []
    for concrete in opts.concrete_fields:
        owner = concrete.model._meta
        alias_ = tables.setdefault(owner.db_table, f"t{len(tables)}")
        if concrete.name in wanted:
            columns.append(f"{alias_}.{qn(concrete.column)}")
        elif getattr(concrete.remote_field, "parent_link", False):
            columns.append(f"p.{qn(Page._meta.pk.column)}")  # a parent link holds the page id
        else:
            continue
        names.append(concrete.attname)
    joins = [
        f"JOIN {qn(table)} {alias_} ON {alias_}.{qn(_table_pk(model, table))} = p.{qn(Page._meta.pk.column)}"
        for table, alias_ in tables.items()
        if table != page_table
    ]
    select = (
        f"SELECT {', '.join(columns)} FROM {qn(page_table)} p {' '.join(joins)} "  # noqa: S608
        f"WHERE p.{qn(Page._meta.pk.column)}"
    )
    at = names.index("first_published_at") if "first_published_at" in names else None
    return select, names, at, row_builder(model, names, alias)


def datetime_converter(connection):
    """Return a function turning the database's value of a DateTimeField into Django's (aware) one.

    On SQLite, Django's converters parse the text (its sqlite3 adapter already
    did, for a declared datetime column) and attach the connection's time zone
    through several checks a value; the same is done here in one step. Other
    databases go through Django's converters.
    """
    expression = Page._meta.get_field("first_published_at").get_col("p")
    if connection.vendor == "sqlite":
        zone = connection.timezone if settings.USE_TZ else None

        def convert_sqlite(value):
            if value is None:
                return None
            if not isinstance(value, dt.datetime):
                value = parse_datetime(value)
            if zone is not None and value.tzinfo is None:
                value = value.replace(tzinfo=zone)
            return value

        return convert_sqlite
    converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
        connection
    )

    def convert(value):
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return convert


def _table_pk(model, table: str) -> str:
    """Return the primary key column of ``table``, one of the model's own or its parents' tables."""
    for klass in (model, *model._meta.get_parent_list()):
        if klass._meta.db_table == table:
            return klass._meta.pk.column
    raise LookupError(table)


def _section_for(page: Page, by_path: dict) -> Page | None:
    return by_path.get(page.path[: -page.steplen])


def _indexed_texts(pages: list[Page], backend) -> dict:
    """Return pk → (headline, standfirst, body) as the index holds them, for snippets and spelling."""
    bodies = {}
    if isinstance(backend, MastheadSearchMixin) and pages:
        bodies = backend.entry_texts(type(pages[0]), [p.pk for p in pages])
    return {
        page.pk: (page.title, getattr(page, "standfirst", "") or "", bodies.get(page.pk, ""))
        for page in pages
    }


def _hits(pages: list[Page], query: ReaderQuery, backend, sections, texts: dict) -> list[Hit]:
    """Return the pages as hits: headline and snippet highlighted, section attached.

    ``texts`` is what ``_indexed_texts`` returns for the pages.
    """
    words = list(query.words)
    if isinstance(backend, MastheadSearchMixin) and pages:
        fixes = backend.corrections([fold(t.text) for t in query.terms if t.fuzzy])
        # Marked: the corrections the search looked for.
        words += [fix for opts in fixes.values() for fix, _d, _n in likely_corrections(opts)]
    by_path = parent_pages(pages, sections)
    marker = Marker(words)
    return [
        Hit(
            page=page,
            headline=marker.highlight(page.title),
            snippet=marker.snippet(texts[page.pk][1:]),
            section=_section_for(page, by_path),
        )
        for page in pages
    ]


def _did_you_mean(query: ReaderQuery, queryset, backend, shown_texts=()) -> str:
    """Return the query with misspelled words corrected, if that finds stories; else "".

    Each misspelled word has corrections from the index's vocabulary, commonest
    first, and the commonest ones are offered if they find a shown story (the
    vocabulary also knows drafts). ``shown_texts`` are the indexed texts of the
    stories on the page, best first: when one of them holds the corrections, no
    query is needed to know that. When the commonest corrections find nothing
    together, the first story on the page holding a correction of every
    misspelled word gives them: "hosepipr bann" is "hosepipe ban", the words
    the reader sees highlighted, though "bank" is commoner than "ban".
    """
    if not isinstance(backend, MastheadSearchMixin):
        return ""
    fixes = backend.corrections([fold(t.text) for t in query.terms if t.fuzzy])
    if not fixes:
        return ""
    shown = list(shown_texts)

    @functools.cache
    def held(i: int) -> frozenset:  # a story's tokens, split when first needed
        return frozenset(tokens(" ".join(shown[i])))

    corrected = query.replace_words({word: options[0][0] for word, options in fixes.items()})
    reader_query = parse(corrected)
    if any(_holds(reader_query, held(i)) for i in range(len(shown))):
        return corrected
    corrected_query = reader_query.to_search_query(fuzzy=False)
    if corrected_query is not None:
        found = backend.search(corrected_query, queryset, order_by_relevance=False)
        at_most = getattr(found, "count_at_most", None)
        if at_most(1) if at_most else found[:1]:
            return corrected
    for i in range(len(shown)):
        story = held(i)
        chosen = {}
        for word, options in fixes.items():
            fix = next((fix for fix, _distance, _docs in options if fix in story), None)
            if fix is None:
                break
            chosen[word] = fix
        else:
            corrected = query.replace_words(chosen)
            if _holds(parse(corrected), story):
                return corrected
    return ""


def _holds(query: ReaderQuery, held: frozenset[str] | set[str]) -> bool:
    """Return True when a story whose indexed texts have the tokens ``held`` matches ``query``.

    Only a query of plain words (no phrase, OR or exclusion) is judged here: it
    matches a story holding each of its tokens, as FTS5's unicode61 tokenizer
    and PostgreSQL's parser split them (``vocabulary.tokens``). Anything else
    returns False, and the caller asks the database.
    """
    if query.excluded or any(len(group) != 1 or group[0].phrase for group in query.groups):
        return False
    wanted = {token for term in query.terms for token in tokens(term.text)}
    return bool(wanted) and wanted <= held
