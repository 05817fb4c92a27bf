"""Orderings that let the database read its indexes instead of sorting the archive."""

from django.db.models import Expression
from django.db.models.expressions import Col


class PageTableId(Expression):
    """``wagtailcore_page.id`` of the queried page model, for ORDER BY.

    Ordering a page subclass by ``"-id"`` or ``"-pk"`` compiles to the child
    table's ``page_ptr_id`` (Django trims the join to the parent, the numbers
    being equal). With that column after ``first_published_at`` SQLite no
    longer walks the date index (whose entries end with the page table's
    rowid): it sorts every article for a LIMIT 5 — 240 ms against 0.03 ms at
    100,000 articles. This expression keeps the parent table's own column.
    Use ``PageTableId().desc()`` / ``.asc()`` in ``order_by``; only pages.
    """

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        info = query.setup_joins(["id"], query.get_meta(), query.get_initial_alias())
        return Col(info.joins[-1], info.targets[0])


def newest_first() -> tuple:
    """Return ``order_by`` arguments for pages newest first, ties broken by page id (index order)."""
    return ("-first_published_at", PageTableId().desc())
