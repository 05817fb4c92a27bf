"""Settings read from the environment, each declared once with its default and help text.

The README's configuration table lists every variable declared here (a test checks it).
"""

import os
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class EnvVar:
    name: str
    default: str | None
    help: str


ENV_VARS: dict[str, EnvVar] = {}


def declare(name: str, default: str | None, help: str) -> EnvVar:
    """Register an environment variable and return its declaration."""
    var = EnvVar(name, default, help)
    ENV_VARS[name] = var
    return var


DEBUG = declare("DEBUG", "0", "Django debug mode (1 to turn on). Never on in production.")
SECRET_KEY = declare(
    "SECRET_KEY",
    None,
    "Django's secret key; required when DEBUG is off (make run generates one under var/).",
)
ALLOWED_HOSTS = declare(
    "ALLOWED_HOSTS", "127.0.0.1,localhost", "Comma-separated host names the site answers to."
)
DATABASE_URL = declare(
    "DATABASE_URL",
    None,
    "PostgreSQL URL (postgres://user:pass@host:port/db); unset means SQLite in var/masthead.sqlite3.",
)
SQLITE = declare(
    "MASTHEAD_SQLITE",
    "auto",
    "SQLite library when DATABASE_URL is unset: auto (the bundled current SQLite of the "
    "pysqlite3-binary wheel where it is installed, else Python's), bundled or system.",
)
REDIS_URL = declare(
    "REDIS_URL",
    None,
    "Redis URL for the shared cache (redis://host:port/0); unset means a file cache under var/cache.",
)
VAR_DIR = declare(
    "MASTHEAD_VAR_DIR",
    None,
    "Directory for the SQLite database, media files and the file cache (default: ./var).",
)
BASE_URL = declare(
    "MASTHEAD_BASE_URL",
    None,
    "The public address of the site, used in the newsroom and in absolute links "
    "(default: http://127.0.0.1:$PORT).",
)
ADMIN_PASSWORD = declare(
    "MASTHEAD_ADMIN_PASSWORD",
    None,
    "Password of the administrator created on first start (default: a random one, printed once).",
)
REQUIRE_SERVICES = declare(
    "MASTHEAD_REQUIRE_SERVICES",
    "0",
    "Tests only: 1 turns a skip for a missing PostgreSQL, Redis or Chromium into a failure (CI sets it).",
)
PORT = declare("PORT", "8000", "Port make run serves on.")
EMAIL_URL = declare(
    "MASTHEAD_EMAIL_URL",
    None,
    "SMTP server for newsroom mail (review requests), smtp://user:pass@host:587 (TLS) or "
    "smtps://…:465; unset means mail is written to the server log.",
)
FROM_EMAIL = declare(
    "MASTHEAD_FROM_EMAIL", "newsroom@localhost", "Sender address of newsroom mail."
)
SHARED_DIR = declare(
    "MASTHEAD_SHARED_DIR",
    None,
    "Tests and benchmarks only: the folder of test data sets and the seed page (default: ../shared).",
)


def base_url() -> str:
    """Return MASTHEAD_BASE_URL, or the address make run serves on."""
    return (get(BASE_URL) or f"http://127.0.0.1:{get(PORT)}").rstrip("/")


WEB_CONCURRENCY = declare("WEB_CONCURRENCY", "2", "Number of gunicorn worker processes.")
SCHEDULER = declare(
    "MASTHEAD_SCHEDULER",
    "1",
    "1 runs scheduled publishing every minute beside the web server; 0 leaves it to cron.",
)


def get(var: EnvVar) -> str | None:
    """Return the variable's value, or its declared default when it is unset or empty."""
    value = os.environ.get(var.name)
    return value if value not in (None, "") else var.default


def get_bool(var: EnvVar) -> bool:
    """Return True for 1/true/yes/on (any case); anything else is False."""
    return (get(var) or "").strip().lower() in {"1", "true", "yes", "on"}


def require(var: EnvVar) -> str:
    """Return the variable's value or raise ImproperlyConfigured naming it."""
    value = get(var)
    if not value:
        raise ImproperlyConfigured(f"{var.name} must be set: {var.help}")
    return value


def email_settings() -> dict:
    """Return Django's EMAIL_* settings for MASTHEAD_EMAIL_URL (console backend when unset).

    A URL whose scheme is neither smtp nor smtps raises ImproperlyConfigured.
    """
    from urllib.parse import unquote, urlsplit

    url = get(EMAIL_URL)
    if not url:
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ImproperlyConfigured(f"{EMAIL_URL.name} must look like smtp://user:pass@host:587")
    secure = parts.scheme == "smtps"
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or (465 if secure else 587),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": secure,
        "EMAIL_USE_TLS": not secure and (parts.port or 587) != 25,
    }
