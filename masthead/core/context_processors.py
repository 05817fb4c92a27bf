from django.conf import settings


def masthead(request):
    """Return values every template may use; no database queries."""
    return {
        "MASTHEAD_DEBUG": settings.DEBUG,
        "MASTHEAD_NEWSROOM_NAME": settings.WAGTAIL_SITE_NAME,
    }
