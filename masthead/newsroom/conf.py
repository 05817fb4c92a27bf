"""The newsroom's settings, declared with their defaults and help (see core.conf)."""

from masthead.core import conf

MASTHEAD_PREVIEW_LINK_MAX_AGE = conf.declare(
    "MASTHEAD_PREVIEW_LINK_MAX_AGE",
    3 * 24 * 60 * 60,
    "Seconds a shared draft preview link works after an editor creates it (default three days).",
)
