from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from masthead.core import views as core_views
from masthead.news import sitemaps as news_sitemaps
from masthead.newsroom import views as newsroom_views  # issue 8: shared previews
from masthead.search import views as search_views
from masthead.trending import views as trending_views

urlpatterns = [
    path("newsroom/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("healthz", core_views.healthz, name="healthz"),
    path("search/", search_views.search, name="search"),
    path("search/suggest/", search_views.suggest, name="search_suggest"),  # issue 4: typeahead
    # --- Read beacon collector (issue 6): masthead/trending/views.py ---
    path("-/read", trending_views.collect, name="trending_collect"),
    # --- Sitemaps and robots.txt (issue 7): masthead/news/sitemaps.py ---
    path("sitemap.xml", news_sitemaps.index, name="sitemap_index"),
    path("sitemap-<slug:section>.xml", news_sitemaps.sitemap, name="sitemap"),
    path("robots.txt", news_sitemaps.robots_txt, name="robots_txt"),
    # --- Shared draft previews (issue 8): masthead/newsroom/views.py ---
    path("preview/<str:token>/", newsroom_views.shared_preview, name="shared_preview"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
else:
    # Uploaded images are served by the same process; a CDN or web server in front
    # may take this over by serving MEDIA_ROOT at MEDIA_URL.
    from django.views.static import serve

    urlpatterns += [
        path(
            f"{settings.MEDIA_URL.strip('/')}/<path:path>",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]

urlpatterns += [path("", include(wagtail_urls))]

handler404 = "masthead.news.views.page_not_found"
