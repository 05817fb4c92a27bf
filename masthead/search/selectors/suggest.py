"""The typeahead: ranked stories as JSON-ready dicts, read as rows where the model allows.

Shares the results page's query parsing, filters and backend
(``selectors.querysets``); see ``search_suggest``.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db import connections, router
from django.utils import timezone
from modelsearch.query import And, Fuzzy, PlainText
from wagtail.models import Page

from masthead.images.renditions import CARD, CARD_SMALL
from masthead.search.backends.base import MastheadSearchMixin
from masthead.search.query import parse
from masthead.search.selectors.querysets import SearchFilters, search_backend, search_querysets
from masthead.search.selectors.results import datetime_converter
from masthead.search.vocabulary import fold

SUGGEST_LIMIT = 8  # rows a typeahead list shows without scrolling on a phone
MIN_SUGGEST_LENGTH = 2  # one letter matches half the archive and tells the reader nothing
SHORT_PREFIX = 4  # prefixes shorter than this are completed from the vocabulary…
COMPLETIONS = 5  # …to this many of its commonest words
THUMBNAIL_FIELD = "featured_image"  # used when the search model has an image field of this name
THUMBNAIL_SPECS = (CARD_SMALL, CARD)  # renditions the site's cards already made


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
    queryset = search_querysets(root=root, filters=SearchFilters(), sections=[]).shown
    *head, last = words
    parts = [Fuzzy(w) if len(w) >= 4 and w.isalpha() else PlainText(w) for w in head]
    backend = search_backend()
    if len(last) < SHORT_PREFIX and isinstance(backend, MastheadSearchMixin):
        # A short prefix matches thousands of words; its commonest completions stand for it.
        options = backend.completions(fold(last), COMPLETIONS) or [last]
        parts.append(PlainText(" ".join(options), operator="or"))
    else:
        parts.append(PlainText(last))
    prefix_query = parts[0] if len(parts) == 1 else And(parts)
    results = _suggestions(
        lambda qs: backend.autocomplete(prefix_query, qs)[:limit], queryset, request
    )
    if not results and len(last) >= 4 and last.isalpha():
        # A typo in the last word: no prefix matches, so look for the word it stands for.
        parts[-1] = Fuzzy(last)
        typo_query = And(parts) if len(parts) > 1 else parts[0]
        results = _suggestions(lambda qs: backend.search(typo_query, qs)[:limit], queryset, request)
    return results


def _suggestions(search, queryset, request=None) -> list[dict]:
    """Return the typeahead dicts of ``search(queryset)`` (a slice of search results), best first.

    Masthead's backends give the ranked ids, and one query reads exactly the
    fields the JSON holds (``suggestions_from_pks``); other backends, or a query
    only the queryset path answers, load the pages with their thumbnails
    prefetched (``suggestions_from_pages``).
    """
    results = search(queryset)
    ranked_pks = getattr(results, "ranked_pks", None)
    if ranked_pks is not None and _routes_like_page(queryset.model):
        pks = ranked_pks()
        if pks is not None:
            return suggestions_from_pks(queryset.model, pks, request)
    return suggestions_from_pages(list(search(_with_thumbnails(queryset))), request)


def _routes_like_page(model) -> bool:
    """Return True when the model's URLs are Wagtail's own (url_path under a site root)."""
    return model.get_url_parts is Page.get_url_parts and model.get_url is Page.get_url


def suggestions_from_pks(model, pks: list, request=None) -> list[dict]:
    """Return the typeahead dicts of the pages ``pks`` (in that order), read in one query.

    One hand-written SELECT (``_suggest_sql``) reads the headline, url path and
    date from Wagtail's page table, the section title (the parent page's, a
    subquery by tree path) and, when the model has a picture, the file of an
    existing thumbnail rendition (a subquery; none is ever made here), so no
    page object is built. The URL is Wagtail's own ``Page.get_url`` of the
    page's ``url_path``, the sites' root paths cached on ``request``. Pks that
    are gone are skipped; no pks give [] without a query.
    """
    if not pks:
        return []
    connection = connections[router.db_for_read(model)]
    sql, params, with_thumbnail = _suggest_sql(model, connection, len(pks))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *pks])
        rows = {row[0]: row for row in cursor.fetchall()}
    to_datetime = datetime_converter(connection)
    storage = _rendition_storage() if with_thumbnail else None
    out = []
    for pk in pks:
        row = rows.get(pk)
        if row is None:
            continue
        _pk, title, url_path, published, section, thumbnail = row
        out.append(
            _suggestion_json(
                title,
                _PageUrl(url_path).get_url(request=request),
                section,
                to_datetime(published),
                storage.url(thumbnail) if thumbnail else None,
            )
        )
    return out


class _PageUrl:
    """Just enough of a page for Wagtail's own ``Page.get_url``: its ``url_path``.

    ``suggestions_from_pks`` only uses it for models whose routing is Wagtail's
    (``_routes_like_page``), so the URL is the one the page itself would give.
    """

    get_url = Page.get_url
    get_url_parts = Page.get_url_parts
    _get_site_root_paths = Page._get_site_root_paths
    _get_relevant_site_root_paths = Page._get_relevant_site_root_paths

    def __init__(self, url_path: str):
        self.url_path = url_path


def _suggest_sql(model, connection, count: int) -> tuple[str, list, bool]:
    """Return (sql, params before the ``count`` pk parameters, has thumbnail) of the typeahead read.

    Columns: id, title, url_path, first_published_at, section title, thumbnail
    file (NULL when the model has no THUMBNAIL_FIELD or no rendition exists).
    Names come from the models' metadata; every value is a parameter.
    """
    from wagtail.images import get_image_model

    qn = connection.ops.quote_name
    page = Page._meta
    col = {name: qn(page.get_field(name).column) for name in ("title", "url_path", "path")}
    published = qn(page.get_field("first_published_at").column)
    pk = qn(page.pk.column)
    joins, params = "", [Page.steplen]
    thumbnail = "NULL"
    field = _thumbnail_field(model)
    if field is not None:
        owner = field.model._meta
        joins = (
            f" LEFT JOIN {qn(owner.db_table)} t ON t.{qn(owner.pk.column)} = p.{pk}"
            if owner.db_table != page.db_table
            else ""
        )
        source = "t" if joins else "p"
        rendition = get_image_model().get_rendition_model()._meta
        specs = ", ".join(["%s"] * len(THUMBNAIL_SPECS))
        preference = " ".join(f"WHEN %s THEN {i}" for i in range(len(THUMBNAIL_SPECS)))
        # The spec first in THUMBNAIL_SPECS wins; among equals the newest row, as the
        # prefetched path's {filter_spec: rendition} keeps the last one read.
        thumbnail = (
            f"(SELECT r.{qn(rendition.get_field('file').column)} FROM {qn(rendition.db_table)} r "
            f"WHERE r.{qn(rendition.get_field('image').column)} = {source}.{qn(field.column)} "
            f"AND r.{qn(rendition.get_field('filter_spec').column)} IN ({specs}) "
            f"ORDER BY CASE r.{qn(rendition.get_field('filter_spec').column)} {preference} END, "
            f"r.{qn(rendition.pk.column)} DESC LIMIT 1)"
        )
        params += [*THUMBNAIL_SPECS, *THUMBNAIL_SPECS]
    sql = (
        f"SELECT p.{pk}, p.{col['title']}, p.{col['url_path']}, p.{published}, "  # noqa: S608
        f"(SELECT s.{col['title']} FROM {qn(page.db_table)} s "
        f"WHERE s.{col['path']} = SUBSTR(p.{col['path']}, 1, LENGTH(p.{col['path']}) - %s)), "
        f"{thumbnail} FROM {qn(page.db_table)} p{joins} "
        f"WHERE p.{pk} IN ({', '.join(['%s'] * count)})"
    )
    return sql, params, field is not None


def _rendition_storage():
    from wagtail.images import get_image_model

    return get_image_model().get_rendition_model()._meta.get_field("file").storage


def _thumbnail_field(model):
    """Return the model's THUMBNAIL_FIELD (a foreign key to the image model), or None."""
    try:
        field = model._meta.get_field(THUMBNAIL_FIELD)
    except FieldDoesNotExist:  # a model without a picture
        return None
    return field if getattr(field, "many_to_one", False) and field.concrete else None


def suggestions_from_pages(pages: list[Page], request=None) -> list[dict]:
    """Return the typeahead dicts of loaded pages (thumbnails from prefetched renditions only)."""
    paths = {page.path[: -page.steplen] for page in pages}
    titles = dict(Page.objects.filter(path__in=paths).values_list("path", "title")) if paths else {}
    return [_suggestion(page, titles, request) for page in pages]


def _with_thumbnails(queryset):
    """Return the queryset without stream fields, its pictures' thumbnails prefetched if it has any."""
    if hasattr(queryset, "defer_streamfields"):
        queryset = queryset.defer_streamfields()
    if _thumbnail_field(queryset.model) is not None:
        from django.db.models import Prefetch
        from wagtail.images import get_image_model

        images = get_image_model().objects.prefetch_renditions(*THUMBNAIL_SPECS)
        queryset = queryset.prefetch_related(Prefetch(THUMBNAIL_FIELD, queryset=images))
    return queryset


def _suggestion(page: Page, section_titles: dict, request=None) -> dict:
    section = section_titles.get(page.path[: -page.steplen], "")
    published = page.first_published_at
    field = _thumbnail_field(type(page))
    image = getattr(page, field.name) if field and getattr(page, field.attname) else None
    thumbnail = None
    if image is not None:
        # Only a rendition that already exists (prefetched, the small card's first): the
        # typeahead never makes one, which costs an image decode and a file write.
        existing = {r.filter_spec: r for r in getattr(image, "prefetched_renditions", ())}
        for spec in THUMBNAIL_SPECS:
            if spec in existing:
                thumbnail = existing[spec].url
                break
    return _suggestion_json(
        page.title, page.get_url(request=request), section, published, thumbnail
    )


def _suggestion_json(headline, url, section, published, thumbnail) -> dict:
    """Return one typeahead entry: the JSON's keys in one place for both read paths."""
    return {
        "headline": headline,
        "url": url,
        "section": section or "",
        "published": timezone.localtime(published).isoformat() if published else None,
        "thumbnail": thumbnail,
    }
