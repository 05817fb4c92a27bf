from django.db import transaction
from wagtail.signals import page_published

from masthead.news import tasks


def on_page_published(sender, instance, **kwargs):
    transaction.on_commit(lambda: tasks.article_published.enqueue(instance.pk))


def register() -> None:
    from masthead.news.models import ArticlePage

    page_published.connect(
        on_page_published, sender=ArticlePage, dispatch_uid="masthead-news-published"
    )
