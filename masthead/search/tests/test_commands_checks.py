"""`masthead search rebuild` and the system checks for missing search capabilities."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from masthead.news.tests.factories import publish_article
from masthead.search import checks
from masthead.search.models import Word

pytestmark = pytest.mark.django_db


def test_rebuild_command_draws_a_progress_bar_and_rebuilds_the_vocabulary():
    publish_article(title="Zelensky meets leaders in Kyiv")
    Word.objects.all().delete()
    out = io.StringIO()
    call_command("search", "rebuild", "--chunk-size", "2", stdout=out)
    text = out.getvalue()
    assert "[##############################] 100%" in text
    assert "Indexed" in text
    assert Word.objects.filter(word="zelensky").exists()


def test_unknown_search_action_is_an_error():
    with pytest.raises(CommandError):
        call_command("search", "explode")


def test_backend_check_warns_when_another_backend_is_configured(settings):
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
    (warning,) = checks.check_backend_configured()
    assert warning.id == "masthead.W004"
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "masthead.search.backends"}}
    assert checks.check_backend_configured() == []


def test_capability_check_is_quiet_on_a_complete_database():
    assert checks.check_search_capabilities(databases=["default"]) == []


def test_capability_check_warns_about_a_missing_trigram_index():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TABLE masthead_search_word_trigram")
            expected = "masthead.W003"
        else:
            cursor.execute("DROP EXTENSION pg_trgm CASCADE")
            expected = "masthead.W001"
    ids = [w.id for w in checks.check_search_capabilities(databases=["default"])]
    assert expected in ids


def test_capability_check_warns_when_the_vocabulary_is_missing():
    publish_article(title="Zelensky meets leaders in Kyiv")
    Word.objects.all().delete()
    ids = [w.id for w in checks.check_search_capabilities(databases=["default"])]
    assert "masthead.W005" in ids
