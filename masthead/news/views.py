from django.shortcuts import render

from masthead.news.models import ArticlePage, HomePage

NOT_FOUND_LATEST = 6


def page_not_found(request, exception=None):
    """Return a 404 that helps: a search box and the latest stories."""
    home = HomePage.objects.live().first()
    latest = list(ArticlePage.objects.for_links()[:NOT_FOUND_LATEST]) if home else []
    context = {
        "home": home,
        "nav_sections": home.sections if home else [],
        "latest": latest,
        "search_query": request.path.strip("/").split("/")[-1].replace("-", " "),
    }
    return render(request, "404.html", context, status=404)
