"""Keep the search index fresh: each handler is one line that enqueues a task on commit.

modelsearch already indexes a page in the same transaction when it is saved
(``post_save``) and removes it when it is deleted (``post_delete``). These
handlers add what those miss: ``page_published`` covers scheduled publishing
(``publish_scheduled``) and imports, and ``page_unpublished`` re-reads a page
whose ``live`` flag changed, so the reader's search and "Did you mean" never
lag behind the site once the transaction has committed.
"""

from django.db import transaction
from wagtail.signals import page_published, page_unpublished

from masthead.search import tasks


def on_page_changed(sender, instance, **kwargs):
    transaction.on_commit(lambda: tasks.index_page.enqueue(instance.pk))


def register() -> None:
    page_published.connect(on_page_changed, dispatch_uid="masthead-search-published")
    page_unpublished.connect(on_page_changed, dispatch_uid="masthead-search-unpublished")
