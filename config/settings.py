"""Masthead's one settings module, driven by the environment (see config/env.py and the README)."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import env
from config.sqlite import use_sqlite

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = BASE_DIR / "masthead"
VAR_DIR = Path(env.get(env.VAR_DIR) or BASE_DIR / "var")

DEBUG = env.get_bool(env.DEBUG)


def _secret_key() -> str:
    """Return SECRET_KEY from the environment, else from var/secret_key (written by make run)."""
    value = env.get(env.SECRET_KEY)
    if value:
        return value
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    if DEBUG:
        return "insecure-development-key-debug-only"
    raise ImproperlyConfigured(
        f"SECRET_KEY must be set when DEBUG is off (or {key_file} must exist; make run creates it)."
    )


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in (env.get(env.ALLOWED_HOSTS) or "").split(",") if h.strip()]
if DEBUG:
    ALLOWED_HOSTS += ["*"]

INSTALLED_APPS = [
    "masthead.core",
    "masthead.images",
    "masthead.related",
    "masthead.trending",
    "masthead.pagecache",  # full-page cache for anonymous readers (issue 6)
    "masthead.search",
    "masthead.news",
    "masthead.newsroom",
    "masthead.ingest",
    "masthead.demo",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.settings",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_tasks",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Issue 6: anonymous readers' pages from the cache, before sessions and auth run.
    "masthead.pagecache.middleware.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Newsroom (issue 8): Authors publish, unpublish and arrange only their own pages.
    "masthead.newsroom.middleware.AuthorOwnPagesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "masthead.core.context_processors.masthead",
            ],
        },
    },
]

# Databases: SQLite in WAL mode by default, PostgreSQL when DATABASE_URL is set.
if env.get(env.DATABASE_URL):
    DATABASES = {"default": dj_database_url.parse(env.get(env.DATABASE_URL), conn_max_age=60)}
    DATABASES["default"].setdefault("TEST", {})
else:
    # Before Django's SQLite backend imports sqlite3: see config/sqlite.py.
    SQLITE_VERSION = use_sqlite(env.get(env.SQLITE))
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "masthead.sqlite3",
            "OPTIONS": {
                # WAL lets readers run while a writer commits; IMMEDIATE avoids
                # "database is locked" upgrades from read to write transactions.
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=5000;"
                    "PRAGMA foreign_keys=ON;"
                    # Search (issue 4): read the file through a memory map (up to 1 GiB)
                    # instead of a read() per page; index lookups at 100k stories take
                    # about a third less time. Shared by processes via the OS page cache.
                    "PRAGMA mmap_size=1073741824;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches: Redis when REDIS_URL is set; otherwise a file cache that every server
# process shares, so an invalidation in one worker is seen by the others.
if env.get(env.REDIS_URL):
    CACHES = {
        "default": {
            # Issue 6: Django's RedisCache, but a Redis that is down means "no cache", not a 500.
            "BACKEND": "masthead.pagecache.redis.ResilientRedisCache",
            "LOCATION": env.get(env.REDIS_URL),
            "KEY_PREFIX": "masthead",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
            "KEY_PREFIX": "masthead",
            # Issue 6: whole pages live here too; Django's default of 300 entries is too few.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

# Trending read counters (issue 6): hourly hashes in Redis when REDIS_URL is set;
# otherwise hourly rows in the database (masthead/trending/conf.py's default).
if env.get(env.REDIS_URL):
    MASTHEAD_TRENDING = {
        "BACKEND": "masthead.trending.backends.redis.RedisBackend",
        "OPTIONS": {"LOCATION": env.get(env.REDIS_URL)},
    }

TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Related news (issue 5): suggestions computed from content, stored, updated on publish.
# Other OPTIONS (TEXT_FIELDS, TAGS, AUTHORS) default in masthead/related/conf.py.
MASTHEAD_RELATED = {
    "BACKEND": "masthead.related.backends.terms.TermsBackend",
    "OPTIONS": {"MODELS": ["news.ArticlePage"]},
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "wagtailadmin_login"

# Newsroom mail (workflow notifications): SMTP from MASTHEAD_EMAIL_URL, else the server log,
# so a fresh install never fails a review request on a missing mail server.
globals().update(env.email_settings())
DEFAULT_FROM_EMAIL = env.get(env.FROM_EMAIL)
WAGTAILADMIN_NOTIFICATION_FROM_EMAIL = DEFAULT_FROM_EMAIL

# Wagtail
WAGTAIL_SITE_NAME = "Masthead newsroom"
WAGTAILADMIN_BASE_URL = env.base_url()
WAGTAILIMAGES_IMAGE_MODEL = "images.NewsImage"
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 64_000_000
# Newsroom (issue 8): uploads are checked, turned upright and stripped of metadata.
WAGTAILIMAGES_IMAGE_FORM_BASE = "masthead.images.forms.NewsImageForm"
# Newsroom (issue 8): no Gravatar. Editors' email hashes stay in the newsroom, and the
# admin shows Wagtail's own avatar (or an uploaded one) instead of a broken image offline.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ALLOW_UNICODE_SLUGS = False
# Search (issue 4): Masthead's backends extend modelsearch's SQLite FTS5 and PostgreSQL
# ones and are picked by the database vendor; the admin searches with them too.
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "masthead.search.backends"}}
WAGTAILADMIN_PERMITTED_LANGUAGES = [("en", "English")]
WAGTAILEMBEDS_RESPONSIVE_HTML = True
WAGTAIL_MODERATION_ENABLED = True
TAGGIT_CASE_INSENSITIVE = True
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"masthead": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = False
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "SAMEORIGIN"
    SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
