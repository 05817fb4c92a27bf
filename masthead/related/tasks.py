"""Background work of the related app, enqueued on commit by the signal handlers."""

from django_tasks import task

from masthead.related import services


@task()
def related_page_published(page_id: int) -> None:
    """Update the suggestions a published (or re-published) page touches."""
    services.related_page_update(page_id=page_id)


@task()
def related_page_unpublished(page_id: int) -> None:
    """Remove an unpublished or deleted page from every suggestion list."""
    services.related_page_remove(page_id=page_id)
