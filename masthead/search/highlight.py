"""Snippets with the reader's words marked: the text is escaped first, then highlighted."""

import functools
import html
import re

from django.utils.safestring import SafeString

from masthead.search.vocabulary import fold

SNIPPET_LENGTH = 240  # characters of context shown under a headline, about two lines
MAX_SUFFIX = 3  # "election" also marks "elections", "electioneer" does not count
MIN_STEM = 4  # words shorter than this are only marked when whole

_TOKEN = re.compile(r"[^\W_]+")
_PARAGRAPH_JOIN = re.compile(r"([.!?:;\"”’])\s*, ")


def escape(text: str) -> str:
    """Return ``text`` escaped for HTML as Django's ``escape`` does (quotes too), without its lazy wrapper."""
    return html.escape(text)


def _matcher(words, prefix: str = ""):
    """Return a predicate telling whether a folded token is one of the reader's words."""
    exact = {w for w in words if w}

    def matches(token: str) -> bool:
        if token in exact:
            return True
        if prefix and token.startswith(prefix):
            return True
        return any(
            len(w) >= MIN_STEM and token.startswith(w) and len(token) - len(w) <= MAX_SUFFIX
            for w in exact
        )

    return matches


def highlight(text: str, words, *, prefix: str = "") -> SafeString:
    """Return ``text`` escaped, with each of ``words`` (folded) wrapped in <mark>.

    ``prefix`` also marks tokens starting with it (typeahead). Empty text gives "".
    """
    if not text:
        return SafeString("")
    folded = fold(text)
    if len(folded) == len(text):
        # One regular expression over the folded text (positions unchanged).
        finder = _finder(tuple(sorted({w for w in words if w})), prefix)
        if finder is None:
            return SafeString(escape(text))
        spans = [m.span() for m in finder.finditer(folded)]
    else:
        matches = _matcher(words, prefix)
        spans = [m.span() for m in _TOKEN.finditer(text) if matches(fold(m.group()))]
    out, last = [], 0
    for start, end in spans:
        out.append(escape(text[last:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        last = end
    out.append(escape(text[last:]))
    return SafeString("".join(out))  # every piece was escaped above


def snippet(texts, words, *, length: int = SNIPPET_LENGTH) -> SafeString:
    """Return the most relevant window of ``texts`` (about ``length`` characters), highlighted.

    The first text containing one of the words wins, cut around its first
    match at word boundaries with "…"; with no match, the start of the first
    non-empty text.
    """
    texts = [t for t in texts if t and t.strip()]
    if not texts:
        return SafeString("")
    finder = _finder(tuple(sorted({w for w in words if w})))
    if finder is not None:
        for text in texts:
            folded = fold(text)
            # Folding keeps positions unless a character decomposes into several (ligatures).
            haystack = folded if len(folded) == len(text) else None
            if haystack is None:
                for m in _TOKEN.finditer(text):
                    if _matcher(words)(fold(m.group())):
                        return _highlighted_window(text, m.start(), length, words)
                continue
            m = finder.search(haystack)
            if m:
                return _highlighted_window(text, m.start(), length, words)
    return _highlighted_window(texts[0], 0, length, words)


@functools.lru_cache(maxsize=256)
def _finder(words: tuple[str, ...], prefix: str = ""):
    """Return a regex finding any of the folded words as a whole token (or with a short suffix)."""
    words = sorted({w for w in words if w}, key=len, reverse=True)
    alternatives = [
        re.escape(w) + (rf"[^\W_]{{0,{MAX_SUFFIX}}}" if len(w) >= MIN_STEM else "") for w in words
    ]
    if prefix:
        alternatives.append(re.escape(prefix) + r"[^\W_]*")
    if not alternatives:
        return None
    return re.compile(rf"(?<![^\W_])(?:{'|'.join(alternatives)})(?![^\W_])")


def _window_parts(text: str, at: int, length: int) -> tuple[str, str, str]:
    """Return about ``length`` characters of ``text`` around ``at``, cut between words.

    Returns ("…" or "", the text, "…" or ""), so that the text alone is
    highlighted: the ellipsis is not ASCII, and highlighting it with the text
    would send every snippet down ``highlight``'s slow, token-by-token path.
    """
    if len(text) <= length:
        return "", " ".join(text.split()), ""
    start = max(0, at - length // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < at else start
    end = min(len(text), start + length)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > at else end
    # Index text joins a body's paragraphs with ", ": "end., Next" reads as "end. Next".
    piece = _PARAGRAPH_JOIN.sub(r"\1 ", " ".join(text[start:end].split()))
    return ("…" if start else ""), piece, ("…" if end < len(text) else "")


def _highlighted_window(text: str, at: int, length: int, words) -> SafeString:
    lead, piece, trail = _window_parts(text, at, length)
    return SafeString(lead + highlight(piece, words) + trail)  # highlight escapes
