"""Signal handlers: each enqueues a task on commit (STYLE.md convention 9)."""

from django.db import transaction
from wagtail.signals import page_published, page_unpublished

from masthead.related import tasks
from masthead.related.conf import related_settings


def _indexed(sender) -> bool:
    return sender._meta.label in related_settings()["OPTIONS"].get("MODELS", [])


def on_page_published(sender, instance, **kwargs):
    if _indexed(sender):
        transaction.on_commit(lambda: tasks.related_page_published.enqueue(instance.pk))


def on_page_unpublished(sender, instance, **kwargs):
    if _indexed(sender):
        transaction.on_commit(lambda: tasks.related_page_unpublished.enqueue(instance.pk))


def register() -> None:
    page_published.connect(on_page_published, dispatch_uid="masthead-related-published")
    page_unpublished.connect(on_page_unpublished, dispatch_uid="masthead-related-unpublished")
