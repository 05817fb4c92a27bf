"""Reads of the search app: the results page and the typeahead, on any Wagtail page model.

The model searched is ``MASTHEAD_SEARCH_MODEL`` (``news.ArticlePage``); this app
imports no Masthead page model. Sections are the live children of the site's
root page, found through the page tree.
"""

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.apps import apps
from django.core.paginator import Paginator
from django.utils import timezone
from django.utils.text import slugify
from modelsearch.backends import get_search_backend
from modelsearch.query import And, Fuzzy, PlainText
from wagtail.models import Page

from masthead.core import conf
from masthead.images.renditions import CARD, CARD_SMALL
from masthead.search import conf as _search_conf  # noqa: F401  (declares the settings)
from masthead.search.backends.base import COUNT_LIMIT, MastheadSearchMixin
from masthead.search.highlight import highlight, snippet
from masthead.search.query import ReaderQuery, parse
from masthead.search.vocabulary import fold

RESULTS_PER_PAGE = 20
SUGGEST_LIMIT = 8  # rows a typeahead list shows without scrolling on a phone
MIN_SUGGEST_LENGTH = 2  # one letter matches half the archive and tells the reader nothing
SHORT_PREFIX = 4  # prefixes shorter than this are completed from the vocabulary…
COMPLETIONS = 5  # …to this many of its commonest words
LATEST_LIMIT = 5  # stories offered by the empty state
ORDERS = ("relevance", "newest")
DATE_FORMAT = "%Y-%m-%d"
THUMBNAIL_FIELD = "featured_image"  # used when the search model has an image field of this name
THUMBNAIL_SPECS = (CARD_SMALL, CARD)  # renditions the site's cards already made


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


def filtered_queryset(*, root: Page | None, filters: SearchFilters, sections: list[Page]):
    """Return live, public pages of the search model under ``root``, narrowed by ``filters``."""
    model = search_model()
    queryset = model.objects.live().public()
    if root is not None:
        queryset = queryset.descendant_of(root)
    if filters.section:
        section = next((s for s in sections if s.slug == filters.section), None)
        queryset = queryset.descendant_of(section) if section else queryset.none()
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
    queryset = filtered_queryset(root=root, filters=filters, sections=sections)
    shown = queryset.defer_streamfields() if hasattr(queryset, "defer_streamfields") else queryset
    search_query = query.to_search_query()
    backend = search_backend()
    if search_query is not None:
        if order == "newest":
            results = backend.search(
                search_query, shown.order_by("-first_published_at"), order_by_relevance=False
            )
        else:
            results = backend.search(search_query, shown)
        capped = CappedResults(results, COUNT_LIMIT)
        paginated = Paginator(capped, per_page).get_page(page_number)
        outcome.page = paginated
        outcome.count = paginated.paginator.count
        outcome.count_more = capped.more
        outcome.hits = _hits(list(paginated.object_list), query, backend, sections)
        outcome.did_you_mean = _did_you_mean(query, queryset, backend)
    if not outcome.count:
        outcome.latest = list(
            search_model().objects.live().public().order_by("-first_published_at")[:LATEST_LIMIT]
        )
    return outcome


def _section_for(page: Page, by_path: dict) -> Page | None:
    return by_path.get(page.path[: -page.steplen])


def _hits(pages: list[Page], query: ReaderQuery, backend, sections=()) -> list[Hit]:
    """Return the pages as hits: headline and snippet highlighted, section attached."""
    words = list(query.words)
    if isinstance(backend, MastheadSearchMixin) and pages:
        fixes = backend.corrections([fold(t.text) for t in query.terms if t.fuzzy])
        words += [fix for options in fixes.values() for fix, _d, _n in options]
        texts = backend.entry_texts(type(pages[0]), [p.pk for p in pages])
    else:
        texts = {}
    by_path = parent_pages(pages, sections)
    return [
        Hit(
            page=page,
            headline=highlight(page.title, words),
            snippet=snippet([getattr(page, "standfirst", ""), texts.get(page.pk, "")], words),
            section=_section_for(page, by_path),
        )
        for page in pages
    ]


def _did_you_mean(query: ReaderQuery, queryset, backend) -> str:
    """Return the query with misspelled words corrected, if that finds stories; else ""."""
    if not isinstance(backend, MastheadSearchMixin):
        return ""
    fixes = backend.corrections([fold(t.text) for t in query.terms if t.fuzzy])
    if not fixes:
        return ""
    corrected = query.replace_words({word: options[0][0] for word, options in fixes.items()})
    corrected_query = parse(corrected).to_search_query(fuzzy=False)
    # Only offer words that find live stories: the vocabulary also knows drafts.
    if corrected_query is None:
        return ""
    found = backend.search(corrected_query, queryset, order_by_relevance=False)
    at_most = getattr(found, "count_at_most", None)
    if not (at_most(1) if at_most else found[:1]):
        return ""
    return corrected


def search_suggest(
    *, text: str, root: Page | None = None, limit: int = SUGGEST_LIMIT, request=None
) -> list[dict]:
    """Return up to ``limit`` stories for the typeahead, as JSON-ready dicts.

    Each has headline, url, section, published (ISO 8601) and thumbnail (URL or
    None). The last word counts as a prefix; text shorter than
    MIN_SUGGEST_LENGTH gives []. With ``request``, the sites' root paths are
    looked up once for all the URLs instead of once per story.
    """
    query = parse(text)
    words = [t.text for t in query.terms if not t.phrase]
    if len(query.text) < MIN_SUGGEST_LENGTH or not words:
        return []
    queryset = _with_thumbnails(filtered_queryset(root=root, filters=SearchFilters(), sections=[]))
    *head, last = words
    parts = [Fuzzy(w) if len(w) >= 4 and w.isalpha() else PlainText(w) for w in head]
    backend = search_backend()
    if len(last) < SHORT_PREFIX and isinstance(backend, MastheadSearchMixin):
        # A short prefix matches thousands of words; its commonest completions stand for it.
        options = backend.completions(fold(last), COMPLETIONS) or [last]
        parts.append(PlainText(" ".join(options), operator="or"))
    else:
        parts.append(PlainText(last))
    results = list(
        backend.autocomplete(parts[0] if len(parts) == 1 else And(parts), queryset)[:limit]
    )
    if not results and len(last) >= 4 and last.isalpha():
        # A typo in the last word: no prefix matches, so look for the word it stands for.
        parts[-1] = Fuzzy(last)
        results = list(backend.search(And(parts) if len(parts) > 1 else parts[0], queryset)[:limit])
    paths = {page.path[: -page.steplen] for page in results}
    titles = dict(Page.objects.filter(path__in=paths).values_list("path", "title")) if paths else {}
    return [_suggestion(page, titles, request) for page in results]


def _with_thumbnails(queryset):
    """Return the queryset without stream fields, its pictures' thumbnails prefetched if it has any."""
    if hasattr(queryset, "defer_streamfields"):
        queryset = queryset.defer_streamfields()
    if any(f.name == THUMBNAIL_FIELD for f in queryset.model._meta.get_fields()):
        from django.db.models import Prefetch
        from wagtail.images import get_image_model

        images = get_image_model().objects.prefetch_renditions(*THUMBNAIL_SPECS)
        queryset = queryset.prefetch_related(Prefetch(THUMBNAIL_FIELD, queryset=images))
    return queryset


def _suggestion(page: Page, section_titles: dict, request=None) -> dict:
    section = section_titles.get(page.path[: -page.steplen], "")
    published = page.first_published_at
    image = (
        getattr(page, "featured_image", None) if getattr(page, "featured_image_id", None) else None
    )
    thumbnail = None
    if image is not None:
        # Only a rendition that already exists (prefetched, the small card's first): the
        # typeahead never makes one, which costs an image decode and a file write.
        existing = {r.filter_spec: r for r in getattr(image, "prefetched_renditions", ())}
        for spec in THUMBNAIL_SPECS:
            if spec in existing:
                thumbnail = existing[spec].url
                break
    return {
        "headline": page.title,
        "url": page.get_url(request=request),
        "section": section,
        "published": timezone.localtime(published).isoformat() if published else None,
        "thumbnail": thumbnail,
    }
