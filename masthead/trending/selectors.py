"""Reads the trending app serves: the Trending region, and the newsroom's Most read page."""

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from masthead.core.ordering import newest_first
from masthead.trending.backends import CounterStoreUnavailable, get_backend, hour_of, hours_between
from masthead.trending.services import trending_ranking_refresh

logger = logging.getLogger(__name__)


def trending_list(*, candidates: QuerySet, limit: int) -> list:
    """Return the ``limit`` trending pages from ``candidates``, most trending first.

    The ranking (48 hours of hourly reads, decayed by the configured half-life)
    is recomputed at most once a minute, never per page view. Slots the ranking
    cannot fill (a new site, a quiet night, the counter store down) are filled
    with the most recent candidates. One query, two when filling after reads.
    """
    ids = trending_ranking_refresh()
    newest = candidates.order_by(*newest_first())
    if not ids:
        return list(newest[:limit])
    found = {page.pk: page for page in candidates.filter(pk__in=ids)}
    ranked = [found[page_id] for page_id in ids if page_id in found][:limit]
    if len(ranked) < limit:
        ranked += list(newest.exclude(pk__in=[p.pk for p in ranked])[: limit - len(ranked)])
    return ranked


@dataclass
class MostReadRow:
    page_id: int
    reads: int
    hourly: list[int] = field(default_factory=list)


@dataclass
class MostRead:
    hours: list[dt.datetime]
    rows: list[MostReadRow]
    per_hour: list[int]
    since: dt.datetime | None = None
    available: bool = True

    @property
    def total(self) -> int:
        """Return the reads of all pages in the window (not the whole chart)."""
        return sum(
            n for hour, n in zip(self.hours, self.per_hour, strict=True) if hour >= self.since
        )


def most_read(
    *, window: dt.timedelta, limit: int, chart_hours: int, now: dt.datetime | None = None
) -> MostRead:
    """Return the ``limit`` most read pages over ``window`` with their reads per hour.

    The window is counted in whole clock hours: it starts at the beginning of the
    hour ``window`` ago, so "last hour" at 10:20 covers 09:00–10:20. Each row's
    ``hourly`` covers the last ``chart_hours`` hours (at least the window). With
    the counter store down, returns an empty result with ``available`` False.
    """
    now = now or timezone.now()
    backend = get_backend()
    since = hour_of(now - window)
    chart_since = min(since, hour_of(now) - dt.timedelta(hours=chart_hours - 1))
    until = now + dt.timedelta(seconds=1)
    chart = hours_between(chart_since, until)
    try:
        backend.flush()
        top = backend.totals(since=since, until=until, limit=limit)
        hourly = backend.hourly(since=chart_since, until=until, page_ids=[p for p, _ in top])
        totals = backend.hourly_totals(since=chart_since, until=until)
    except CounterStoreUnavailable as exc:
        logger.warning("Most read is unavailable: %s", exc)
        return MostRead(
            hours=chart, rows=[], per_hour=[0] * len(chart), since=since, available=False
        )
    per_hour = [totals.get(h, 0) for h in chart]
    rows = [
        MostReadRow(
            page_id=page_id,
            reads=reads,
            hourly=[hourly.get(page_id, {}).get(h, 0) for h in chart],
        )
        for page_id, reads in top
    ]
    return MostRead(hours=chart, rows=rows, per_hour=per_hour, since=since)
