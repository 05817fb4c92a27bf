from pathlib import Path

import masthead.pagecache.conf  # noqa: F401  (declares)
import masthead.trending.conf  # noqa: F401  (declares)
from masthead.core.conf import SETTINGS

README = Path(__file__).resolve().parents[3] / "README.md"
OWN_PREFIXES = ("MASTHEAD_PAGE_CACHE", "MASTHEAD_TRENDING")


def test_every_page_cache_and_trending_setting_is_in_the_readme():
    text = README.read_text()
    own = [name for name in SETTINGS if name.startswith(OWN_PREFIXES)]
    assert len(own) >= 11
    missing = [name for name in own if f"`{name}`" not in text]
    assert not missing, f"README.md does not document: {', '.join(missing)}"
