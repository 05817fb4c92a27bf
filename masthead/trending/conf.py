"""Settings of the trending app (issue 6); read them with ``core.conf.get`` inside functions."""

from masthead.core.conf import declare

declare(
    "MASTHEAD_TRENDING",
    {"BACKEND": "masthead.trending.backends.database.DatabaseBackend", "OPTIONS": {}},
    "The read counter: BACKEND is a dotted path (backends.database.DatabaseBackend, hourly rows "
    "written in batches; backends.redis.RedisBackend, hourly hashes, OPTIONS LOCATION a Redis URL). "
    "config/settings.py picks Redis when REDIS_URL is set.",
)
declare(
    "MASTHEAD_TRENDING_HALF_LIFE_HOURS",
    6.0,
    "Half-life of a read in the trending score, in hours: a read this old counts half.",
)
declare(
    "MASTHEAD_TRENDING_REPEAT_MINUTES",
    30,
    "A visitor's reads of one article within this many minutes count once.",
)
declare(
    "MASTHEAD_TRENDING_RATE_LIMIT",
    120,
    "Read beacons accepted per client per minute; more get 429 and are not counted.",
)
declare(
    "MASTHEAD_TRENDING_PROXY_COUNT",
    0,
    "Number of trusted reverse proxies in front of the site; the reader's address is then taken "
    "from X-Forwarded-For, that many entries from the right.",
)
