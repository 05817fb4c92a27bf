"""Public content changed: start a new page cache version once the transaction commits.

Publishing, unpublishing (including scheduled expiry), deleting and moving any
page, and saving anything every page shows (snippets such as authors, site
settings, tags, sites, privacy), go through here. A new page type or route
(feeds, search) is covered without knowing about the cache.
"""

from functools import cache

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from wagtail.signals import page_published, page_unpublished, post_page_move

from masthead.pagecache import tasks
from masthead.pagecache.services import content_version_bump


def on_page_changed(sender, instance, **kwargs):
    content_changed(page_id=instance.pk)


def on_page_deleted(sender, instance, **kwargs):
    if _is_page(sender):
        content_changed()


def on_shown_model_changed(sender, instance, created=False, **kwargs):
    # A new author, tag or settings row shows nowhere until a page using it is
    # published; a new privacy restriction hides a page at once.
    if (not created or _is_restriction(sender)) and _is_shown(sender):
        content_changed()


def content_changed(*, page_id: int | None = None) -> None:
    """Bump the content version now and again on commit, with one task per transaction.

    The bump now lets this transaction's own later requests (tests, scripts) see
    fresh pages; the bump on commit makes stale anything another process rendered
    from the old data meanwhile. Every change registers an on-commit callback, but
    the callbacks of one transaction share a batch and only the first to run
    enqueues the task, so an import of 10,000 articles costs one task, which
    purges all their pages from a CDN.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        tasks.content_changed.enqueue(page_ids=[page_id] if page_id else [])
        return
    content_version_bump()
    batch = getattr(connection, "_masthead_pagecache_batch", None)
    if batch is None or batch["done"]:
        batch = connection._masthead_pagecache_batch = {"done": False, "page_ids": set()}
    if page_id:
        batch["page_ids"].add(page_id)

    def callback():
        if not batch["done"]:
            batch["done"] = True
            tasks.content_changed.enqueue(page_ids=sorted(batch["page_ids"]))

    transaction.on_commit(callback)


def _is_restriction(model) -> bool:
    from wagtail.models import PageViewRestriction

    return issubclass(model, PageViewRestriction)


def _is_page(model) -> bool:
    from wagtail.models import Page

    return issubclass(model, Page)


@cache
def _shown_models_static() -> frozenset:
    from django.apps import apps
    from taggit.models import Tag
    from wagtail.contrib.settings.models import BaseGenericSetting, BaseSiteSetting
    from wagtail.models import PageViewRestriction, Site

    settings_models = {
        model
        for model in apps.get_models()
        if issubclass(model, BaseSiteSetting | BaseGenericSetting)
    }
    return frozenset({Site, Tag, PageViewRestriction, *settings_models})


def _is_shown(model) -> bool:
    """Return True for non-page models whose changes show on reader pages (snippets register late)."""
    from wagtail.snippets.models import get_snippet_models

    return model in _shown_models_static() or model in get_snippet_models()


def register() -> None:
    page_published.connect(on_page_changed, dispatch_uid="masthead-pagecache-published")
    page_unpublished.connect(on_page_changed, dispatch_uid="masthead-pagecache-unpublished")
    post_page_move.connect(on_page_changed, dispatch_uid="masthead-pagecache-moved")
    post_delete.connect(on_page_deleted, dispatch_uid="masthead-pagecache-page-deleted")
    post_save.connect(on_shown_model_changed, dispatch_uid="masthead-pagecache-shown-saved")
    post_delete.connect(on_shown_model_changed, dispatch_uid="masthead-pagecache-shown-deleted")
