"""The read collector (POSTed by the article page's beacon) and the newsroom's Most read page."""

import datetime as dt

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.models import Page

from masthead.core import conf
from masthead.trending.backends import Outcome
from masthead.trending.bots import is_bot
from masthead.trending.selectors import most_read
from masthead.trending.services import read_record

SIGNATURE_LENGTH = 16  # hex characters of the beacon's HMAC: enough to stop made-up ids
MAX_PAGE_ID = 2**31 - 1
# Browsers say where a request comes from; a beacon from another site is not a read here.
FOREIGN_FETCH_SITES = {"cross-site"}


def beacon_signature(page_id: int) -> str:
    """Return the signature the beacon sends with ``page_id``, so the collector needs no query."""
    return salted_hmac("masthead.trending.beacon", str(page_id)).hexdigest()[:SIGNATURE_LENGTH]


def _client_ip(request) -> str:
    """Return the reader's address, from X-Forwarded-For when trusted proxies are configured."""
    proxies = int(conf.get("MASTHEAD_TRENDING_PROXY_COUNT"))
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _no_content(status: int = 204) -> HttpResponse:
    response = HttpResponse(status=status)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
def collect(request):
    """Count a read and answer 204, whatever it was (a robot, a repeat, a bad id): no cookies set.

    Answers 429 when the client is over the rate limit, 405 to anything but POST.
    """
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    if is_bot(user_agent) or request.META.get("HTTP_SEC_FETCH_SITE") in FOREIGN_FETCH_SITES:
        return _no_content()
    raw_id, signature = request.POST.get("p", ""), request.POST.get("s", "")
    if not raw_id.isdigit() or not 0 < int(raw_id) <= MAX_PAGE_ID:
        return _no_content()
    page_id = int(raw_id)
    if not constant_time_compare(signature, beacon_signature(page_id)):
        return _no_content()
    outcome = read_record(page_id=page_id, ip=_client_ip(request), user_agent=user_agent)
    if outcome is Outcome.LIMITED:
        response = _no_content(429)
        response["Retry-After"] = "60"
        return response
    return _no_content()


# The Most read page's windows: (query value, label, length, hours charted).
WINDOWS = {
    "hour": ("Last hour", dt.timedelta(hours=1), 24),
    "day": ("Last day", dt.timedelta(days=1), 24),
    "week": ("Last week", dt.timedelta(days=7), 24 * 7),
}
MOST_READ_LIMIT = 20
CHART_HEIGHT = 24  # SVG units; bars are scaled to the busiest hour in the chart


def _bars(counts: list[int], hours: list[dt.datetime]) -> list[dict]:
    """Return one bar per hour (x, y, height, label) scaled so the busiest hour fills the chart."""
    peak = max(counts, default=0) or 1
    bars = []
    for x, (count, hour) in enumerate(zip(counts, hours, strict=True)):
        height = round(CHART_HEIGHT * count / peak, 2)
        bars.append(
            {
                "x": x,
                "y": CHART_HEIGHT - height,
                "height": height,
                "label": f"{timezone.localtime(hour):%a %H}:00 — {count} reads",
            }
        )
    return bars


class MostReadView(WagtailAdminTemplateMixin, TemplateView):
    """Newsroom report: the most read stories of the last hour, day or week, with hourly charts."""

    template_name = "trending/most_read.html"
    page_title = "Most read"
    header_icon = "pick"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        window = self.request.GET.get("window", "day")
        if window not in WINDOWS:
            window = "day"
        label, length, chart_hours = WINDOWS[window]
        result = most_read(window=length, limit=MOST_READ_LIMIT, chart_hours=chart_hours)
        pages = Page.objects.in_bulk([row.page_id for row in result.rows])
        rows = []
        for rank, row in enumerate(result.rows, start=1):
            page = pages.get(row.page_id)
            rows.append(
                {
                    "rank": rank,
                    "page": page,
                    "page_id": row.page_id,
                    "reads": row.reads,
                    "bars": _bars(row.hourly, result.hours),
                    "edit_url": reverse("wagtailadmin_pages:edit", args=[page.pk]) if page else "",
                }
            )
        context.update(
            {
                "windows": [
                    {"key": key, "label": value[0], "current": key == window}
                    for key, value in WINDOWS.items()
                ],
                "window_label": label,
                "rows": rows,
                "available": result.available,
                "total": result.total,
                "chart_width": len(result.hours),
                "chart_height": CHART_HEIGHT,
                "overall_bars": _bars(result.per_hour, result.hours),
                "chart_from": result.hours[0] if result.hours else None,
                "window_from": result.since,
            }
        )
        return context
