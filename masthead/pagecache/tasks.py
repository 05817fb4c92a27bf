from django_tasks import task

from masthead.pagecache.services import content_version_bump, frontend_cache_purge


@task()
def content_changed(page_ids: list[int] | None = None) -> None:
    """Make every cached page stale and purge the changed pages from the CDN, if one is set up."""
    content_version_bump()
    frontend_cache_purge(page_ids=page_ids or [])
