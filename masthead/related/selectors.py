"""Reads the related app serves to page models: editor picks first, computed fill second."""

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When
from wagtail.models import Page

from masthead.related.models import RelatedLink


def related_picks(*, page: Page) -> list[RelatedLink]:
    """Return the page's editor picks in their order, with their target pages (one query)."""
    return list(
        RelatedLink.objects.filter(page_id=page.pk)
        .select_related("target")
        .order_by("sort_order", "pk")
    )


def related_fill(
    *, page: Page, candidates: QuerySet, tag_ids: list[int], exclude_ids: list[int], limit: int
) -> list[Page]:
    """Return up to ``limit`` pages from ``candidates``, most related to ``page`` first (one query).

    Order: most tags shared, then same parent (the same section), then newest.
    The list is filled even when nothing is shared, so the region is never empty.
    """
    if limit <= 0:
        return []
    parent_path = page.path[: -page.steplen]
    tagged = Q(tagged_items__tag_id__in=tag_ids) if tag_ids else Q(pk__in=[])
    return list(
        candidates.exclude(pk__in=[page.pk, *exclude_ids])
        .annotate(
            shared_tags=Count("tagged_items", filter=tagged, distinct=True),
            same_section=Case(
                When(path__startswith=parent_path, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .order_by("-shared_tags", "-same_section", "-first_published_at", "-pk")[:limit]
    )
