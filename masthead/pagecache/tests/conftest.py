"""Page cache tests run with the cache on, whatever the suite-wide default."""

import pytest


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.MASTHEAD_PAGE_CACHE = True
