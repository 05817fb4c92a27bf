"""Index Wagtail's page table by section (path prefix) and publication date.

"The newest stories of this section" (front page, section pages, section
feeds) otherwise walks the whole date index when a section's stories are old.
The expression is the one the queries use
(``news.models.querysets.SectionPath``: ``SUBSTR(path, 1, 12)`` with the
numbers written out, which SQLite and PostgreSQL both match against it). It lives on
``wagtailcore_page``, which this app does not own, so it is added with the
schema editor rather than declared on a model.
"""

from django.db import migrations, models

INDEX_NAME = "news_page_section_date"
SECTION_PATH_LENGTH = 12  # as news.models.querysets (a migration keeps its own copy)


class SectionPath(models.Func):
    function = "SUBSTR"
    template = f"%(function)s(%(expressions)s, 1, {SECTION_PATH_LENGTH})"
    output_field = models.CharField()


def section_date_index() -> models.Index:
    return models.Index(SectionPath("path"), "first_published_at", name=INDEX_NAME)


def add_index(apps, schema_editor):
    schema_editor.add_index(apps.get_model("wagtailcore", "Page"), section_date_index())


def remove_index(apps, schema_editor):
    schema_editor.remove_index(apps.get_model("wagtailcore", "Page"), section_date_index())


class Migration(migrations.Migration):
    dependencies = [
        ("news", "0004_newsroom_breaking_notes"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(add_index, remove_index)]
