"""Writes of the related app: editor picks from importers, and the computed suggestions."""

from collections.abc import Callable

from django.db import transaction
from wagtail.models import Page

from masthead.related.backends import get_backend
from masthead.related.models import RelatedLink, normalize_headline


def related_links_resolve(*, page: Page) -> int:
    """Point pending picks whose headline matches ``page``'s title at ``page``; return how many.

    Matching is exact first, then case-, accent- and punctuation-insensitive.
    A page never becomes its own related story.
    """
    pending = RelatedLink.objects.picks().filter(
        target__isnull=True, target_key=normalize_headline(page.title)
    )
    pending = pending.exclude(page_id=page.pk)
    return pending.update(target=page, target_key="")


def related_links_replace(*, page: Page, picks: list[tuple[Page | None, str, int | None]]) -> None:
    """Replace the page's editor picks with ``picks``: (target or None, headline, also_read_after).

    A pick whose target is None is kept by headline until an article with that headline arrives.
    Call before the page's revision is saved; the links are part of the page's cluster.
    Blocks the newsroom set on the page are kept.
    """
    blocks = [link for link in page.related_links.all() if link.blocked]
    page.related_links.set(
        [
            RelatedLink(
                target=target,
                target_headline="" if target else headline,
                target_key="" if target else normalize_headline(headline),
                also_read_after=after,
                sort_order=index,
            )
            for index, (target, headline, after) in enumerate(picks)
        ]
        + [
            RelatedLink(target_id=link.target_id, blocked=True, sort_order=len(picks) + i)
            for i, link in enumerate(blocks)
        ]
    )


def related_page_update(*, page_id: int) -> None:
    """Recompute the page's suggestions and enter it into the lists it now belongs in.

    A page that is gone, not live or not of an indexed type is removed instead.
    """
    get_backend().index_page(page_id)


def related_page_remove(*, page_id: int) -> None:
    """Take the page out of every suggestion list and refill the lists that held it."""
    get_backend().remove_page(page_id)


def related_rebuild(
    *, progress: Callable[[int], None] | None = None, refresh_stats: bool = True
) -> int:
    """Recompute every page's suggestions in one transaction; return how many pages."""
    with transaction.atomic():
        return get_backend().rebuild(progress=progress, refresh_stats=refresh_stats)
