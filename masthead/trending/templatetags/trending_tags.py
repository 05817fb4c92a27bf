from django import template
from django.urls import reverse

from masthead.trending.views import beacon_signature

register = template.Library()


@register.simple_tag(takes_context=True)
def read_beacon(context, page):
    """Return what the read beacon sends for ``page``, or None when this view must not count.

    Previews and signed-in newsroom users are not readers; a page without an id
    has nothing to count.
    """
    request = context.get("request")
    if page is None or not getattr(page, "pk", None) or request is None:
        return None
    if getattr(request, "is_preview", False):
        return None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return None
    return {
        "url": reverse("trending_collect"),
        "id": page.pk,
        "signature": beacon_signature(page.pk),
    }
