"""Keep Authors' "publish" on their own pages in the newsroom views Wagtail guards with it alone.

Wagtail lets whoever holds "publish" on a page unpublish it, set its privacy, unschedule its
revisions, reorder it among its siblings, and read its drafts, revisions and history. For an Author (publish without change) those
views are refused with 403 on pages they do not own, before the view runs (GET and POST).
See ``newsroom.wagtail_hooks`` for why the role is built this way.
"""

from django.core.exceptions import PermissionDenied
from wagtail.models import Page

# Newsroom views that check only "publish"; value: the URL keyword naming the page.
GUARDED_VIEWS = {
    "wagtailadmin_pages:unpublish": "page_id",
    "wagtailadmin_pages:set_privacy": "page_id",
    "wagtailadmin_pages:revisions_unschedule": "page_id",
    "wagtailadmin_pages:set_page_position": "page_to_move_id",
    "wagtailadmin_pages:view_draft": "page_id",
    "wagtailadmin_pages:history": "page_id",
    "wagtailadmin_pages:history_results": "page_id",
    "wagtailadmin_pages:revisions_index": "page_id",
    "wagtailadmin_pages:revisions_view": "page_id",
    "wagtailadmin_pages:revisions_compare": "page_id",
}


class AuthorOwnPagesMiddleware:
    """Raise PermissionDenied (403) when an Author opens a guarded view for someone else's page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = getattr(request, "resolver_match", None)
        key = GUARDED_VIEWS.get(match.view_name) if match is not None else None
        user = getattr(request, "user", None)
        if key is None or user is None or not user.is_authenticated or user.is_superuser:
            return None
        from masthead.newsroom.wagtail_hooks import refuse_others_page

        page = Page.objects.filter(pk=view_kwargs.get(key)).first()
        if page is not None and refuse_others_page(user, page):
            raise PermissionDenied(
                "Authors publish, unpublish and arrange their own articles only."
            )
        return None
