"""Reader text → a ``ReaderQuery`` → Wagtail's query classes; nothing here touches SQL.

The language: plain words (all must match; misspellings are forgiven),
``"exact phrases"``, ``-excluded`` words or phrases, ``OR`` between two terms.
``field:value`` filters typed into the box are dropped (filters are URL
parameters); bare ``AND``, unbalanced quotes, operators and symbols are
tolerated. Backends quote every term and pass it to SQL as a parameter.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from modelsearch.query import And, Fuzzy, Not, Or, Phrase, PlainText, SearchQuery
from modelsearch.utils import parse_query_string

from masthead.search.vocabulary import MIN_FUZZY_LENGTH, fold

MAX_QUERY_LENGTH = 200  # longer input is trimmed with a notice; nobody types more into a search box
MAX_TERMS = 10  # each term is one more full-text lookup (and maybe a spelling lookup)
MAX_TERM_LENGTH = 60  # no real word is longer; longer tokens are pasted junk

LONG_NOTICE = f"Your search was long, so only its first {MAX_QUERY_LENGTH} characters were used."
MANY_NOTICE = f"Only the first {MAX_TERMS} words of your search were used."

_WORD_CHAR = re.compile(r"\w")
_EDGE_JUNK = re.compile(r"^[\W_]+|[\W_]+$")


def clean_query(text: str) -> tuple[str, str]:
    """Return (query, notice): control characters removed, whitespace folded, length capped.

    NUL bytes, other control and format characters (bidi marks included) are
    dropped; text longer than MAX_QUERY_LENGTH is cut at a word boundary and
    the notice says so. Never raises.
    """
    text = "".join(ch for ch in (text or "") if unicodedata.category(ch)[0] != "C" or ch in " \t\n")
    text = " ".join(text.split())
    notice = ""
    if len(text) > MAX_QUERY_LENGTH:
        text = text[:MAX_QUERY_LENGTH].rsplit(" ", 1)[0] or text[:MAX_QUERY_LENGTH]
        notice = LONG_NOTICE
    return text, notice


@dataclass(frozen=True)
class Term:
    """One searchable unit: a word or a phrase."""

    text: str
    phrase: bool = False

    @property
    def fuzzy(self) -> bool:
        """Return True when a misspelling of this term may be corrected (plain alphabetic words)."""
        return not self.phrase and len(self.text) >= MIN_FUZZY_LENGTH and self.text.isalpha()

    def as_query(self, *, fuzzy: bool = True) -> SearchQuery:
        if self.phrase:
            return Phrase(self.text)
        if fuzzy and self.fuzzy:
            return Fuzzy(self.text)
        return PlainText(self.text)

    def display(self) -> str:
        return f'"{self.text}"' if self.phrase else self.text


@dataclass(frozen=True)
class ReaderQuery:
    """A reader's search, parsed: groups of alternatives that must all match, and exclusions.

    ``groups`` is a tuple of OR-groups: ``a OR b c`` is ``((a, b), (c,))``.
    """

    text: str = ""
    groups: tuple[tuple[Term, ...], ...] = ()
    excluded: tuple[Term, ...] = ()
    dropped: tuple[str, ...] = ()
    notices: tuple[str, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        """Return True when nothing is left to look for (exclusions alone find nothing)."""
        return not self.groups

    @property
    def terms(self) -> list[Term]:
        """Return every positive term, in the order typed."""
        return [term for group in self.groups for term in group]

    @property
    def words(self) -> list[str]:
        """Return the folded positive words (phrases split), for highlighting and spelling."""
        found = []
        for term in self.terms:
            found.extend(re.findall(r"[^\W_]+", fold(term.text)))
        return found

    @property
    def headline_phrase(self) -> str:
        """Return the text an exact headline match would contain: the first phrase, else all words."""
        for term in self.terms:
            if term.phrase:
                return fold(term.text)
        if any(len(group) > 1 for group in self.groups):
            return ""
        return " ".join(fold(term.text) for term in self.terms)

    def to_search_query(self, *, fuzzy: bool = True) -> SearchQuery | None:
        """Return Wagtail's query object (And/Or/Not of PlainText, Phrase, Fuzzy), or None if empty."""
        if self.is_empty:
            return None
        parts: list[SearchQuery] = []
        for group in self.groups:
            leaves = [term.as_query(fuzzy=fuzzy) for term in group]
            parts.append(leaves[0] if len(leaves) == 1 else Or(leaves))
        parts.extend(Not(term.as_query(fuzzy=False)) for term in self.excluded)
        return parts[0] if len(parts) == 1 else And(parts)

    def replace_words(self, corrections: dict[str, str]) -> str:
        """Return the query text with corrected words, keeping phrases, OR and exclusions."""
        out = []
        for group in self.groups:
            out.append(
                " OR ".join(
                    term.display() if term.phrase else corrections.get(fold(term.text), term.text)
                    for term in group
                )
            )
        out.extend(f"-{term.display()}" for term in self.excluded)
        return " ".join(out)


def _clean_word(token: str) -> str:
    """Return the token without leading/trailing symbols, or "" when it has no letter or digit."""
    token = _EDGE_JUNK.sub("", token)[:MAX_TERM_LENGTH]
    return token if _WORD_CHAR.search(token) else ""


def parse(text: str) -> ReaderQuery:
    """Return the ReaderQuery of a reader's text; any input gives a query, possibly empty.

    Starts from modelsearch's ``parse_query_string`` (quoted phrases, ``field:value``
    filters), then reads ``-`` exclusions, ``OR`` and ``NOT`` from the words.
    """
    text, notice = clean_query(text)
    notices = [notice] if notice else []
    if text.count('"') % 2:
        # An unbalanced quote opens no phrase: drop the last one.
        head, _, tail = text.rpartition('"')
        text = head + " " + tail
    filters, parsed = parse_query_string(text, operator="and", zero_terms=None)
    dropped = tuple(f"{key}:{value}" for key, value in filters.items())

    # A flat token stream: ("word", text) or ("phrase", text) or ("op", "OR"/"NOT"/"-").
    stream: list[tuple[str, str]] = []
    for leaf in _leaves(parsed):
        if isinstance(leaf, Phrase):
            phrase = " ".join(_clean_word(w) for w in leaf.query_string.split()).strip()
            if phrase:
                stream.append(("phrase", phrase))
            continue
        for raw in leaf.query_string.split():
            if raw in {"OR", "|"}:
                stream.append(("op", "OR"))
            elif raw in {"NOT"}:
                stream.append(("op", "NOT"))
            elif raw in {"AND", "&&", "+"}:
                continue
            elif raw == "-":
                stream.append(("op", "-"))
            elif raw.startswith("-") and len(raw) > 1:
                stream.append(("op", "-"))
                word = _clean_word(raw)
                if word:
                    stream.append(("word", word))
                else:
                    stream.pop()
            else:
                word = _clean_word(raw)
                if word:
                    stream.append(("word", word))

    groups: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    negate = False
    for kind, value in stream:
        if kind == "op":
            if value == "OR":
                pending_or = bool(groups)
            else:
                negate = True
            continue
        term = Term(value, phrase=kind == "phrase")
        if negate:
            if term not in excluded:
                excluded.append(term)
        elif pending_or and groups:
            if term not in groups[-1]:
                groups[-1].append(term)
        elif [term] not in groups:
            groups.append([term])
        negate = pending_or = False

    count = 0
    kept: list[tuple[Term, ...]] = []
    for group in groups:
        room = MAX_TERMS - count
        if room <= 0:
            break
        kept.append(tuple(group[:room]))
        count += min(len(group), room)
    if sum(len(g) for g in groups) + len(excluded) > MAX_TERMS:
        notices.append(MANY_NOTICE)
    excluded = excluded[: max(0, MAX_TERMS - count)]
    return ReaderQuery(
        text=text,
        groups=tuple(kept),
        excluded=tuple(excluded),
        dropped=dropped,
        notices=tuple(notices),
    )


def _leaves(query) -> list:
    """Return PlainText and Phrase leaves of parse_query_string's result, in order."""
    if query is None:
        return []
    if isinstance(query, (PlainText, Phrase)):
        return [query]
    if isinstance(query, (And, Or)):
        return [leaf for sub in query.subqueries for leaf in _leaves(sub)]
    return []
