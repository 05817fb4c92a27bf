"""Writes of the trending app: count a read, recompute the trending ranking.

Readers are never stored: a read is keyed by a keyed hash (BLAKE2b) of the
reader's address and user agent under a salt that is random, kept only in the
shared cache, and replaced every day, so yesterday's hashes cannot be linked
to today's, and neither can be turned back into an address.
"""

import datetime as dt
import hashlib
import logging
import secrets
import time

from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac

from masthead.core import conf
from masthead.trending.backends import CounterStoreUnavailable, Outcome, get_backend, hour_of

logger = logging.getLogger(__name__)

RANKING_KEY = "trending:ranking"
RANKING_LOCK_KEY = "trending:ranking:lock"
# The ranking is recomputed at most this often, never per page view (issue 6).
REFRESH_SECONDS = 60
# A recomputation that takes longer than this may be started again by another process.
RANKING_LOCK_SECONDS = 30
# The score looks back this many hourly buckets (issue 6: 48 hours).
WINDOW_HOURS = 48
# More than any region shows, so that dropping the current article and
# unpublished pages still leaves enough to fill it.
RANKING_SIZE = 50
# A day's salt is kept a little longer than the day, for beacons near midnight.
SALT_SECONDS = 26 * 3600

_local_salts: dict[str, bytes] = {}
_local_ranking: dict = {}


def visitor_salt(*, day: dt.date) -> bytes:
    """Return the day's random salt, shared by all processes through the cache.

    When the cache is down, falls back to a salt derived from SECRET_KEY and the
    date (not kept in the process, so the random one is used again once the
    cache is back).
    """
    name = day.isoformat()
    salt = _local_salts.get(name)
    if salt is not None:
        return salt
    key = f"trending:salt:{name}"
    salt = cache.get(key)
    if salt is None:
        cache.add(key, secrets.token_bytes(32), SALT_SECONDS)
        salt = cache.get(key)
    if salt is None:
        return salted_hmac("masthead.trending.salt", name).digest()
    _local_salts.clear()  # keep only today's
    _local_salts[name] = salt
    return salt


def reader_keys(*, ip: str, user_agent: str, at: dt.datetime) -> tuple[str, str]:
    """Return (visitor, client) keyed hashes: the visitor is address + user agent, the client the address."""
    salt = visitor_salt(day=at.astimezone(dt.UTC).date())
    visitor = hashlib.blake2b(f"{ip}\n{user_agent}".encode(), key=salt, digest_size=16)
    client = hashlib.blake2b(ip.encode(), key=salt, digest_size=12, person=b"client")
    return visitor.hexdigest(), client.hexdigest()


def read_record(
    *, page_id: int, ip: str, user_agent: str, at: dt.datetime | None = None
) -> Outcome:
    """Count a read of ``page_id`` by this reader; return COUNTED, REPEAT, LIMITED or DROPPED.

    Never raises for a store that is down: the read is DROPPED (and logged).
    """
    at = at or timezone.now()
    try:
        visitor, client = reader_keys(ip=ip, user_agent=user_agent, at=at)
        return get_backend().record_read(
            page_id=page_id,
            visitor=visitor,
            client=client,
            at=at,
            repeat_seconds=int(conf.get("MASTHEAD_TRENDING_REPEAT_MINUTES")) * 60,
        )
    except Exception:
        logger.warning(
            "Dropped a read of page %s: the counter store failed", page_id, exc_info=True
        )
        return Outcome.DROPPED


def decayed_scores(
    hourly: dict[int, dict[dt.datetime, int]], *, now: dt.datetime, half_life_hours: float
) -> dict[int, float]:
    """Return {page_id: score}: each hour's reads halved for every ``half_life_hours`` of age.

    A bucket's age is taken from the middle of its hour (the current hour's from
    now), so a story read heavily an hour ago beats one read as heavily yesterday.
    A non-positive half-life is a ValueError.
    """
    if half_life_hours <= 0:
        raise ValueError("The trending half-life must be a positive number of hours.")
    scores = {}
    for page_id, hours in hourly.items():
        score = 0.0
        for hour, count in hours.items():
            middle = min(hour + dt.timedelta(minutes=30), now)
            age = max(0.0, (now - middle).total_seconds() / 3600)
            score += count * 0.5 ** (age / half_life_hours)
        scores[page_id] = score
    return scores


def trending_ranking_compute(*, now: dt.datetime | None = None) -> list[int]:
    """Return up to RANKING_SIZE page ids, highest decayed score first (ties: newer id first).

    Raises CounterStoreUnavailable when the counter store cannot be read.
    """
    now = now or timezone.now()
    backend = get_backend()
    backend.flush()
    since = hour_of(now) - dt.timedelta(hours=WINDOW_HOURS - 1)
    hourly = backend.hourly(since=since, until=now + dt.timedelta(seconds=1))
    scores = decayed_scores(
        hourly, now=now, half_life_hours=float(conf.get("MASTHEAD_TRENDING_HALF_LIFE_HOURS"))
    )
    ranked = sorted(scores.items(), key=lambda item: (-item[1], -item[0]))
    return [page_id for page_id, score in ranked[:RANKING_SIZE] if score > 0]


def trending_ranking_refresh(*, now: dt.datetime | None = None) -> list[int]:
    """Return the ranking, recomputing it only when the last one is REFRESH_SECONDS old.

    One process recomputes (it holds a lock in the shared cache); the others go
    on with the previous ranking meanwhile. With the cache down each process
    recomputes at most once a minute; with the counter store down the previous
    ranking (or none) is kept.
    """
    clock = time.time()
    shared = cache.get(RANKING_KEY)
    if shared and clock - shared["computed"] < REFRESH_SECONDS:
        return shared["ids"]
    local = _local_ranking.get("value")
    if not cache.add(RANKING_LOCK_KEY, 1, RANKING_LOCK_SECONDS):
        if shared is not None:
            return shared["ids"]  # another process is recomputing it
        if local and clock - local["computed"] < REFRESH_SECONDS:
            return local["ids"]  # the cache is down: this process's own, once a minute
    previous = shared or local
    try:
        ids = trending_ranking_compute(now=now)
    except CounterStoreUnavailable as exc:
        logger.warning("Trending kept its previous ranking: %s", exc)
        ids = previous["ids"] if previous else []
    value = {"computed": clock, "ids": ids}
    _local_ranking["value"] = value
    cache.set(RANKING_KEY, value, None)
    cache.delete(RANKING_LOCK_KEY)
    return ids


def trending_ranking_forget() -> None:
    """Drop the ranking here and in the shared cache, so the next read recomputes it (tests)."""
    _local_ranking.clear()
    cache.delete(RANKING_KEY)
    cache.delete(RANKING_LOCK_KEY)
