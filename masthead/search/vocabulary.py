"""The index's own vocabulary: words, their spelling neighbours, and "Did you mean".

Both backends keep one ``Word`` table (every word the index holds, with the number
of entries it was seen in). A misspelled query word is replaced by the words of
that table within a small edit distance; candidates come from a trigram index
(FTS5 ``trigram`` on SQLite, ``pg_trgm`` on PostgreSQL) and from the words that
share the first two letters, so that a swap of two letters ("ukriane") is found
even though it breaks most trigrams.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

try:
    from rapidfuzz import process as fuzz_process
    from rapidfuzz.distance import OSA
except ImportError:  # pragma: no cover (a dependency; the pure-Python distance below still works)
    OSA = fuzz_process = None

MIN_WORD_LENGTH = 3  # shorter words are too ambiguous to correct ("an", "of")
MAX_WORD_LENGTH = 30  # longer tokens are URLs or junk, not words a reader types
MIN_FUZZY_LENGTH = 4  # "teh" → "the" is better left alone than guessed
PREFIX_LENGTH = 2  # candidates sharing this many first letters are always considered
MAX_CANDIDATES = 400  # candidate words scored per query word; bounds the cost of a typo
MAX_EXPANSIONS = 4  # at most this many corrections of one word reach the full-text query
RARE_RATIO = 20  # a known word still gets corrections when a neighbour is this many times commoner

_WORD_RE = re.compile(r"[^\W_]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_ASCII_BREAKS = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})


def fold(text: str) -> str:
    """Return ``text`` lowercased without diacritics ("Élysée" → "elysee"), as FTS5's unicode61 does."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    # Only non-ASCII characters can be combining marks: look at those runs alone
    # (a loop over every character: 115 µs instead of 44 per bench article given
    # typographic quotes and dashes).
    return _NON_ASCII.sub(_drop_combining, decomposed).lower()


def _drop_combining(match: re.Match) -> str:
    return "".join(ch for ch in match.group() if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Return the folded tokens of ``text`` as FTS5's unicode61 tokenizer splits it."""
    folded = fold(text)
    if folded.isascii():
        # ASCII: the same split as _WORD_RE (letters and digits), by str methods, twice as fast.
        return folded.translate(_ASCII_BREAKS).split()
    return _WORD_RE.findall(folded)


def is_word(token: str) -> bool:
    """Return True when a folded token belongs in the vocabulary (3–30 long, not all digits)."""
    return MIN_WORD_LENGTH <= len(token) <= MAX_WORD_LENGTH and not token.isdigit()


def words(text: str) -> list[str]:
    """Return the folded words of ``text`` that belong in the vocabulary (letters only, 3–30 long)."""
    return [w for w in tokens(text) if is_word(w)]


def document_words(texts: Iterable[str]) -> set[str]:
    """Return the distinct vocabulary words of one document's texts."""
    # One pass over the joined text, deduplicated before the length and digit checks.
    found = set(tokens(" ".join(text for text in texts if text)))
    return {w for w in found if MIN_WORD_LENGTH <= len(w) <= MAX_WORD_LENGTH and not w.isdigit()}


def count_documents(documents: Iterable[Iterable[str]]) -> Counter:
    """Return word → number of documents it occurs in, for documents given as text lists."""
    counts: Counter = Counter()
    for texts in documents:
        counts.update(document_words(texts))
    return counts


def max_distance(word: str) -> int:
    """Return the edit distance allowed for a word of this length (1 up to 7 letters, then 2)."""
    return 1 if len(word) <= 7 else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Return the optimal-string-alignment distance of a and b, or limit + 1 once it exceeds limit.

    Insertions, deletions, substitutions and swaps of two neighbouring letters
    each cost one, so "ukriane" is one edit from "ukraine".
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    if OSA is not None:
        return OSA.distance(a, b, score_cutoff=limit)  # the same distance, in C
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1] if previous[-1] <= limit else limit + 1


def best_corrections(
    word: str, candidates: Iterable[tuple[str, int]], *, limit: int = MAX_EXPANSIONS
) -> list[tuple[str, int, int]]:
    """Return up to ``limit`` (word, distance, docs) within the allowed distance, best first.

    Closer words come first, then commoner ones; words with another first letter
    only when none keeps it. ``word`` itself is never returned.
    """
    allowed = max_distance(word)
    candidates = [(c, docs) for c, docs in candidates if c != word]
    if fuzz_process is not None:
        # One call scores every candidate in C (the same distance as ``edit_distance``).
        close = fuzz_process.extract(
            word,
            [c for c, _d in candidates],
            scorer=OSA.distance,
            score_cutoff=allowed,
            limit=None,
        )
        scored = [(c, distance, candidates[i][1]) for c, distance, i in close]
    else:
        scored = []
        for candidate, docs in candidates:
            distance = edit_distance(word, candidate, allowed)
            if distance <= allowed:
                scored.append((candidate, distance, docs))
    # Typos rarely hit the first letter: when some candidates keep it, the others go
    # ("yeuter" is "yeutter", not "reuter", however common "reuter" is).
    same_start = [item for item in scored if item[0][:1] == word[:1]]
    scored = same_start or scored
    scored.sort(key=lambda item: (item[1], -item[2], item[0]))
    return scored[:limit]


def likely_corrections(corrections: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Return the corrections a search looks for: as close as the best, and not RARE_RATIO times rarer.

    ``corrections`` come from ``best_corrections``, best first. Each alternative
    adds its own term to the ranking, and bm25 scores a rare term far above a
    common one: "tokeo" searched as tokyo OR token OR tokio put Tokio and Token
    stories above Tokyo's.
    """
    if not corrections:
        return []
    _best, distance, docs = corrections[0]
    return [fix for fix in corrections if fix[1] == distance and fix[2] * RARE_RATIO >= docs]


def needs_correction(word: str, docs: int, corrections: list[tuple[str, int, int]]) -> bool:
    """Return True when ``word`` (seen in ``docs`` entries) is better read as its best correction."""
    if not corrections:
        return False
    if docs == 0:
        return True
    return corrections[0][1] == 1 and corrections[0][2] >= docs * RARE_RATIO
