"""Writes of the related app."""

from wagtail.models import Page

from masthead.related.models import RelatedLink, normalize_headline


def related_links_resolve(*, page: Page) -> int:
    """Point pending picks whose headline matches ``page``'s title at ``page``; return how many.

    Matching is exact first, then case-, accent- and punctuation-insensitive.
    A page never becomes its own related story.
    """
    pending = RelatedLink.objects.filter(
        target__isnull=True, target_key=normalize_headline(page.title)
    )
    pending = pending.exclude(page_id=page.pk)
    return pending.update(target=page, target_key="")


def related_links_replace(*, page: Page, picks: list[tuple[Page | None, str, int | None]]) -> None:
    """Replace the page's editor picks with ``picks``: (target or None, headline, also_read_after).

    A pick whose target is None is kept by headline until an article with that headline arrives.
    Call before the page's revision is saved; the links are part of the page's cluster.
    """
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
    )
