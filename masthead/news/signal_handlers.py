from django.db import transaction
from wagtail.signals import page_published

from masthead.news import tasks


def on_page_published(sender, instance, **kwargs):
    transaction.on_commit(lambda: tasks.article_published.enqueue(instance.pk))


def register() -> None:
    from django.db.models.signals import post_delete, post_save
    from wagtail.models import PageViewRestriction

    from masthead.news.models import ArticlePage
    from masthead.news.models.querysets import forget_restricted_paths

    post_save.connect(
        forget_restricted_paths,
        sender=PageViewRestriction,
        dispatch_uid="masthead-restrictions-save",
    )
    post_delete.connect(
        forget_restricted_paths,
        sender=PageViewRestriction,
        dispatch_uid="masthead-restrictions-delete",
    )
    page_published.connect(
        on_page_published, sender=ArticlePage, dispatch_uid="masthead-news-published"
    )
