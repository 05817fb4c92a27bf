"""The reader's search page. A first version on Wagtail's search; issue 4 replaces the engine."""

from django.core.paginator import Paginator
from django.shortcuts import render
from wagtail.models import Page, Site

from masthead.search.query import clean_query

RESULTS_PER_PAGE = 20


def search(request):
    """Return the results page for ?q=; an empty or unusable query gives the empty state, never a 500."""
    query, notice = clean_query(request.GET.get("q", ""))
    results = None
    site = Site.find_for_request(request)
    home = site.root_page.specific if site else None
    if query:
        # Stories sit three levels below the tree's root (root → front page → section → story).
        found = (
            Page.objects.live()
            .public()
            .filter(depth__gt=3)
            .specific()
            .search(query, operator="and")
        )
        results = Paginator(found, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "search/results.html",
        {
            "search_query": query,
            "notice": notice,
            "results": results,
            "home": home,
            "nav_sections": getattr(home, "sections", []),
        },
    )
