from django_tasks import task
from wagtail.models import Page

from masthead.related.services import related_links_resolve


@task()
def article_published(page_id: int) -> None:
    """Link the pending "also read" picks that name this article's headline."""
    page = Page.objects.filter(pk=page_id).first()
    if page is not None:
        related_links_resolve(page=page)
