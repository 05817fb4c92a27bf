from django_tasks import task

from masthead.search import services


@task()
def index_page(page_id: int) -> None:
    """Bring the search index up to date with one page (published, edited or unpublished)."""
    services.index_page(page_id=page_id)
