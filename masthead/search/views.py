"""The reader's search: the results page (/search/) and the typeahead (/search/suggest/)."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET
from wagtail.models import Site

from masthead.search.selectors import SearchFilters, search_page, search_suggest

SUGGEST_MAX_AGE = 60  # seconds a browser may reuse a typeahead answer


def _home(request):
    """Return the site's root page (specific), or None on a request for an unknown host."""
    site = Site.find_for_request(request)
    return site.root_page.specific if site else None


@require_GET
def search(request):
    """Return the results page for ?q= and the filters; any input gives 200, never a 500."""
    home = _home(request)
    outcome = search_page(
        text=request.GET.get("q", ""),
        filters=SearchFilters.from_params(request.GET),
        order=request.GET.get("sort", "relevance"),
        page_number=request.GET.get("page"),
        root=home,
    )
    params = {"q": outcome.query.text, **outcome.filters.as_params()}
    if outcome.order != "relevance":
        params["sort"] = outcome.order
    response = render(
        request,
        "search/results.html",
        {
            "search_query": outcome.query.text,
            "outcome": outcome,
            "params": params,
            "home": home,
            "nav_sections": outcome.sections,
        },
    )
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def suggest(request):
    """Return {"query", "results": [{headline, url, section, published, thumbnail}]} as JSON."""
    text = request.GET.get("q", "")
    results = search_suggest(text=text, root=_home(request), request=request)
    response = JsonResponse({"query": text[:200], "results": results})
    response["X-Robots-Tag"] = "noindex"
    patch_cache_control(response, public=True, max_age=SUGGEST_MAX_AGE)
    return response
