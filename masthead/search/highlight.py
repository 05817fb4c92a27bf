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


class Marker:
    """The reader's words, compiled once, marking headlines and cutting snippets for a page of hits.

    ``words`` are folded words; ``prefix`` also marks tokens starting with it
    (the typeahead). Every text is escaped before it is marked.
    """

    def __init__(self, words, *, prefix: str = ""):
        self.words = [w for w in words if w]
        self.prefix = prefix
        self.finder = _finder(tuple(sorted(set(self.words))), prefix)
        self.literals = sorted(set(self.words) | ({prefix} if prefix else set()))

    def _find(self, folded: str, *, first: bool = False) -> list[tuple[int, int]]:
        """Return the spans ``finder.finditer`` would give on folded text (only the first with ``first``).

        Each match starts with one of the words, so ``str.find`` proposes the
        places (in C, a few per text) and the finder confirms each one, where
        a regular expression alone would try its lookbehind at every character.
        """
        found = set()
        for literal in self.literals:
            at = folded.find(literal)
            while at != -1:
                m = self.finder.match(folded, at)
                if m:
                    found.add(m.span())
                    if first:
                        break
                at = folded.find(literal, at + 1)
        spans, end = [], 0
        for span in sorted(found):
            if span[0] >= end:  # one match per place, however many words found it
                spans.append(span)
                end = span[1]
        return spans[:1] if first else spans

    def _spans(self, text: str) -> list[tuple[int, int]]:
        folded = fold(text)
        if len(folded) == len(text):
            # Positions unchanged by folding: search the folded text.
            return [] if self.finder is None else self._find(folded)
        matches = _matcher(self.words, self.prefix)
        return [m.span() for m in _TOKEN.finditer(text) if matches(fold(m.group()))]

    def highlight(self, text: str) -> SafeString:
        """Return ``text`` escaped, with the reader's words wrapped in <mark>; "" for no text."""
        if not text:
            return SafeString("")
        spans = self._spans(text)
        plain = escape(text) is text  # nothing replaced: the pieces need no escaping
        out, last = [], 0
        for start, end in spans:
            before, word = text[last:start], text[start:end]
            if not plain:
                before, word = escape(before), escape(word)
            out += (before, "<mark>", word, "</mark>")
            last = end
        out.append(text[last:] if plain else escape(text[last:]))
        return SafeString("".join(out))  # every piece was escaped above

    def snippet(self, texts, *, length: int = SNIPPET_LENGTH) -> SafeString:
        """Return the most relevant window of ``texts`` (about ``length`` characters), highlighted.

        The first text containing one of the words wins, cut around its first
        match at word boundaries with "…"; with no match, the start of the first
        non-empty text.
        """
        texts = [t for t in texts if t and t.strip()]
        if not texts:
            return SafeString("")
        if self.finder is not None:
            for text in texts:
                folded = fold(text)
                # Folding keeps positions unless a character decomposes into several (ligatures).
                if len(folded) != len(text):
                    matches = _matcher(self.words)
                    for m in _TOKEN.finditer(text):
                        if matches(fold(m.group())):
                            return self._window(text, m.start(), length)
                    continue
                spans = self._find(folded, first=True)
                if spans:
                    return self._window(text, spans[0][0], length)
        return self._window(texts[0], 0, length)

    def _window(self, text: str, at: int, length: int) -> SafeString:
        lead, piece, trail = _window_parts(text, at, length)
        return SafeString(lead + self.highlight(piece) + trail)  # highlight escapes


def highlight(text: str, words, *, prefix: str = "") -> SafeString:
    """Return ``text`` escaped, with each of ``words`` (folded) wrapped in <mark>.

    ``prefix`` also marks tokens starting with it (typeahead). Empty text gives "".
    """
    return Marker(words, prefix=prefix).highlight(text)


def snippet(texts, words, *, length: int = SNIPPET_LENGTH) -> SafeString:
    """Return the most relevant window of ``texts`` with ``words`` highlighted (see ``Marker.snippet``)."""
    return Marker(words).snippet(texts, length=length)


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
