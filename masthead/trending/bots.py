"""Which beacons come from robots: crawlers, link previewers, HTTP libraries and headless browsers.

Robots that run no JavaScript never send a beacon; these are the ones that do,
or that post to the collector directly.
"""

import re

# Lower-case fragments of user agents that are never a person reading. Crawlers
# and previewers name themselves; headless browsers and automation leave markers.
BOT_MARKERS = (
    "bot",
    "crawl",
    "spider",
    "slurp",
    "archiver",
    "scrape",
    "fetch",
    "preview",
    "monitor",
    "headless",
    "phantomjs",
    "puppeteer",
    "playwright",
    "selenium",
    "webdriver",
    "lighthouse",
    "pagespeed",
    "ptst",
    "chrome-lighthouse",
    "facebookexternalhit",
    "embedly",
    "whatsapp",
    "curl",
    "wget",
    "python",
    "httpx",
    "aiohttp",
    "okhttp",
    "go-http-client",
    "java/",
    "libwww",
    "node-fetch",
    "axios",
    "httpclient",
    "postman",
    "insomnia",
    "wrk",
    "apachebench",
    "feed",
    "rss",
    "validator",
    "checker",
    "scanner",
    "nmap",
)
_BOT_RE = re.compile("|".join(re.escape(m) for m in BOT_MARKERS))
# A browser's user agent is longer than this; shorter ones are scripts.
MIN_BROWSER_UA_LENGTH = 25


def is_bot(user_agent: str) -> bool:
    """Return True when ``user_agent`` is missing, too short to be a browser, or names a robot."""
    ua = (user_agent or "").lower()
    return len(ua) < MIN_BROWSER_UA_LENGTH or bool(_BOT_RE.search(ua)) or "mozilla/" not in ua
