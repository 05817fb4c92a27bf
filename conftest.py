"""Fixtures every Masthead test shares.

The environment defaults below are set at import time so that anything started
from the tests (a subprocess running ``masthead``, a re-import of settings)
sees a usable configuration. Note that pytest-django reads ``config.settings``
while pytest loads its initial conftests, so for the settings of the test run
itself ``SECRET_KEY`` (or ``DEBUG=1``) must already be in the environment;
``make test`` sets it.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("SECRET_KEY", "test-only-secret")
if "MASTHEAD_VAR_DIR" not in os.environ:
    # Made here, so removed here when the run ends (subprocesses inherit and keep it).
    os.environ["MASTHEAD_VAR_DIR"] = tempfile.mkdtemp(prefix="masthead-test-var-")
    atexit.register(shutil.rmtree, os.environ["MASTHEAD_VAR_DIR"], ignore_errors=True)

# ../shared beside the checkout (CI lays it there); MASTHEAD_SHARED_DIR points elsewhere.
SHARED_DIR = Path(
    os.environ.get("MASTHEAD_SHARED_DIR") or Path(__file__).resolve().parent.parent / "shared"
)


def services_required() -> bool:
    """Return True when a missing service must fail the run instead of skipping (CI)."""
    return os.environ.get("MASTHEAD_REQUIRE_SERVICES", "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def skip_or_fail(reason: str) -> None:
    """Skip the test, or fail it when MASTHEAD_REQUIRE_SERVICES=1 (CI)."""
    if services_required():
        pytest.fail(f"{reason} (MASTHEAD_REQUIRE_SERVICES=1 turns this skip into a failure)")
    pytest.skip(reason)


@pytest.fixture
def shared_dir() -> Path:
    """Return ../shared (seed page, data sets); skip when it is absent on this machine."""
    if not SHARED_DIR.is_dir():
        skip_or_fail(f"{SHARED_DIR} is not present")
    return SHARED_DIR


@pytest.fixture
def seed_page(shared_dir) -> Path:
    """Return the path of the seed article page (shared/seed/article-page.txt)."""
    path = shared_dir / "seed" / "article-page.txt"
    if not path.is_file():
        skip_or_fail(f"{path} is not present")
    return path


@pytest.fixture(autouse=True)
def _locmem_cache(settings):
    """Give every test an empty in-memory cache instead of the shared file cache or Redis."""
    from django.core.cache import cache

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "masthead-tests",
        }
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_buffered_reads():
    """Drop reads a test left in a trending backend's buffer.

    Otherwise the backend's exit-time flush writes them after the test
    database is gone and logs "Lost N reads".
    """
    yield
    from masthead.trending.backends import _backends

    for backend in _backends.values():
        discard = getattr(backend, "discard_buffered", None)
        if discard is not None:
            discard()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Give every test its own MEDIA_ROOT, so uploaded and generated images never leak."""
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    return media


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Serve static files unhashed: the manifest storage used when DEBUG is off needs collectstatic."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Hash test passwords cheaply; logging in is not what these tests measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
