"""Masthead's own Django settings (``MASTHEAD_*``), each declared once with its default and help.

App code reads them with ``conf.get("MASTHEAD_X")`` inside functions, never at import
time, so tests can override them with ``override_settings``. The README's settings
table lists every name declared here (a test checks it).
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: dict[str, Setting] = {}


def declare(name: str, default: Any, help: str) -> Setting:
    """Declare a MASTHEAD_* setting; apps declare theirs in their ``conf.py``."""
    if not name.startswith("MASTHEAD_"):
        raise ValueError(f"{name} must start with MASTHEAD_")
    setting = Setting(name, default, help)
    SETTINGS[name] = setting
    return setting


def get(name: str) -> Any:
    """Return the project's value for a declared setting, else its default."""
    return getattr(settings, name, SETTINGS[name].default)
