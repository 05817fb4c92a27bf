"""Related backends, chosen by MASTHEAD_RELATED["BACKEND"] (a dotted path), as Django's caches are."""

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from masthead.related.backends.base import BaseRelatedBackend


class InvalidRelatedBackendError(ImproperlyConfigured):
    """MASTHEAD_RELATED names a backend that cannot be imported or is not a related backend."""


def get_backend(settings: dict | None = None) -> BaseRelatedBackend:
    """Return a new instance of the configured related backend.

    Raises InvalidRelatedBackendError naming the dotted path when it cannot be
    imported or is not a BaseRelatedBackend subclass. No client is created at
    import time; each call builds the backend from the current settings.
    """
    from masthead.related.conf import related_settings

    settings = settings or related_settings()
    path = settings["BACKEND"]
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise InvalidRelatedBackendError(
            f"MASTHEAD_RELATED BACKEND {path!r} could not be imported: {exc}"
        ) from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, BaseRelatedBackend)):
        raise InvalidRelatedBackendError(
            f"MASTHEAD_RELATED BACKEND {path!r} is not a BaseRelatedBackend subclass."
        )
    return backend_class(settings.get("OPTIONS") or {})
