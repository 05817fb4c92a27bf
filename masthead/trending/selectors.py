"""Reads the trending app serves to page models."""

from django.db.models import QuerySet


def trending_list(*, candidates: QuerySet, limit: int) -> list:
    """Return the ``limit`` trending pages from ``candidates``.

    Until read counting lands (issue 6), trending means the most recently
    published stories.
    """
    return list(candidates.order_by("-first_published_at", "-pk")[:limit])
