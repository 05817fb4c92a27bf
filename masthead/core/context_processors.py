from django.conf import settings


def masthead(request):
    """Return values every template may use; no database queries."""
    return {"MASTHEAD_DEBUG": settings.DEBUG}
