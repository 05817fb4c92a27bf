"""Features of a news text: salient words and the names of people, places and organisations.

Pure Python, no model to download. Names are found by capitalised-phrase
extraction, which suits edited English news: style guides capitalise proper
nouns and nothing else, so a run of capitalised words inside a sentence
("Vladimir Putin", "Bank of England", "Malibu") is a name with high precision.
The one ambiguous place is a sentence's first word; a lone capitalised word there
counts as a name only if the text also capitalises it mid-sentence. Text that is
mostly upper case (wire headlines) carries no case signal and yields words only.

Words are folded to lower case and reduced with Harman's S-stemmer (plural and
possessive endings only: "forces" → "force", "companies" → "company"), which
merges the forms that matter for matching headlines without the false merges of
an aggressive stemmer.
"""

import html
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from itertools import compress
from operator import itemgetter, not_

MIN_WORD_LENGTH = 3  # shorter tokens are mostly initials and particles
MAX_ENTITY_WORDS = 5  # longer capitalised runs are headlines in title case, not names
UPPER_CASE_SHARE = 0.6  # text with more capitalised letters than this has no case signal
TITLE_CASE_SHARE = 0.6  # a headline capitalising more of its words than this is in Title Case

WORD_RE = re.compile(r"[^\W\d_]+(?:['’.\-][^\W\d_]+)*", re.UNICODE)
SENTENCE_END_RE = re.compile(r"[.!?:;\"“”]\s*$")
TAG_RE = re.compile(r"<[^>]+>")
LETTER_RE = re.compile(r"[^\W\d_]")
UPPER_RE = re.compile(r"[A-ZÀ-ÖØ-Þ]")
CASE_SAMPLE = 400  # characters looked at to tell shouted text
CONNECTORS = frozenset(
    {"of", "de", "da", "del", "der", "van", "von", "la", "le", "al", "bin", "du"}
)

# English function words plus the reporting verbs and calendar words every story has.
STOPWORDS = frozenset(
    """
    a about above after again against all almost along already also although always am among an
    and another any anyone anything are around as at away back be became because become been
    before being below between both but by can cannot could did do does doing done down during
    each either else enough etc even ever every few for from further get gets got had has have
    having he her here hers herself him himself his how however i if in into is it its itself
    just last least less like made make many may me might more most much must my myself near
    neither never next no nor not now of off often on once one only onto or other others our ours
    ourselves out over own per perhaps rather same several she should since so some still such
    than that the their theirs them themselves then there these they this those though through
    thus to too toward towards under until up upon us very via was we well were what whatever
    when where whether which while who whom whose why will with within without would yet you your
    yours yourself yourselves
    said says say saying told tells tell according reported reports report added adds asked
    also told including include includes included new news mr mrs ms dr just first second third
    two three four five six seven eight nine ten hundred thousand million billion mln bln pct
    year years month months week weeks day days today yesterday tomorrow time times
    monday tuesday wednesday thursday friday saturday sunday
    january february march april june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    people way lot lots thing things part
    """.split()
)


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """Return ``word`` (lower case) without its plural or possessive ending (Harman's S-stemmer)."""
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("us", "ss", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=200_000)
def word_key(low: str) -> str | None:
    """Return the key a lower-case word counts under, or None for short words and stopwords."""
    if len(low) < MIN_WORD_LENGTH or low in STOPWORDS:
        return None
    key = stem(low)
    return None if key in STOPWORDS else key


def strip_html(text: str) -> str:
    """Return ``text`` without tags, with entities decoded; a tag ends a sentence."""
    if "<" in text:
        text = TAG_RE.sub(lambda m: ". " if m.group(0).startswith("</p") else " ", text)
    return html.unescape(text) if "&" in text else text


def stream_text(raw) -> list[str]:
    """Return the text strings of a StreamField's raw data (any nesting), HTML stripped.

    Keys such as ``type`` and ``id`` and numbers are skipped; bad input gives [].
    """
    out: list[str] = []

    def walk(value, key=None):
        if isinstance(value, str):
            if key not in ("type", "id", "format", "alt_text", "url", "embed") and value:
                out.append(strip_html(value))
        elif isinstance(value, dict):
            for k, v in value.items():
                if k != "type" and k != "id":
                    walk(v, k)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, key)

    walk(raw)
    return out


def _possessive(word: str) -> str:
    return word[:-2] if word.endswith(("'s", "’s")) else word


def text_features(
    text: str, weight: float, words: Counter, names: Counter, proper: set, labels: dict
) -> int:
    """Add ``text``'s words and names to the counters, each occurrence counting ``weight``.

    ``words`` gets stemmed words; ``names`` gets names of two words or more
    (a one-word name is a word, and its key goes into ``proper``); ``labels``
    maps keys to the form readers should see where it is not the key itself (a
    capitalised word, a name). Returns how many words were counted
    (the text's length for length normalisation).

    The per-token work runs in C (regex, ``map``, ``Counter``, ``compress``);
    Python loops only over distinct words, punctuation and capitalised words.
    """
    if not text:
        return 0
    tokens = WORD_RE.findall(text)
    if not tokens:
        return 0
    n = len(tokens)
    lowered = list(map(str.lower, tokens))
    upper = list(map(str.isupper, map(itemgetter(0), tokens)))
    stopwords = STOPWORDS
    # Case carries no signal in shouted wire headlines or Title Case headlines.
    sample = text[:CASE_SAMPLE]
    letters = len(LETTER_RE.findall(sample))
    stop = list(map(stopwords.__contains__, lowered))
    capitals = n - sum(stop)  # the words that are not stopwords, capitalised or not
    no_case = (letters and len(UPPER_RE.findall(sample)) / letters > UPPER_CASE_SHARE) or (
        capitals >= 3 and sum(compress(upper, map(not_, stop))) / capitals > TITLE_CASE_SHARE
    )
    # A sentence starts at the first token and after end punctuation; any punctuation
    # between two words ends a name ("Malibu, Calif." is two names). gaps[i] is the
    # text before tokens[i]; by far the most common gap, " ", records nothing.
    gaps = WORD_RE.split(text)
    starts = {0}
    breaks = {0}
    for i in compress(range(1, n), map(" ".__ne__, gaps[1:n])):
        gap = gaps[i]
        if gap.strip():
            breaks.add(i)
            if "\n" in gap or SENTENCE_END_RE.search(gap):
                starts.add(i)
        elif "\n" in gap:
            breaks.add(i)
            starts.add(i)
    capitalised = list(compress(range(n), upper))
    mid_caps = set()
    if not no_case:
        mid_caps = {lowered[i] for i in capitalised if i not in starts}
    # Each distinct word once, with its number of occurrences. Adding ``weight`` that
    # many times is what one addition per occurrence gives; a product gives the same
    # float when every partial sum is a whole number.
    whole = float(weight).is_integer()
    counted = 0
    for low, times in Counter(lowered).items():
        key = word_key(low)
        if key is None:
            continue
        counted += times
        value = words.get(key, 0)
        if times == 1 or (whole and float(value).is_integer()):
            words[key] = value + weight * times
        else:
            for _ in range(times):
                value += weight
            words[key] = value
    if mid_caps:
        # A capitalised word's label is its last occurrence's form (any case).
        last = dict(zip(lowered, range(n), strict=True))
        where: dict[str, int] = {}
        for low in mid_caps:
            key = word_key(low)
            if key is not None and last[low] > where.get(key, -1):
                where[key] = last[low]
        for key, i in where.items():
            labels[key] = _possessive(tokens[i])
    if no_case:
        return counted

    def flush(run: list[int]) -> None:
        while run and lowered[run[-1]] in CONNECTORS:
            run.pop()
        if not run:
            return
        if len(run) == 1:
            low = lowered[run[0]]
            if (run[0] in starts and low not in mid_caps) or len(low) < MIN_WORD_LENGTH:
                return
            proper.add(stem(low))
            return
        if len(run) > MAX_ENTITY_WORDS:
            return
        key = " ".join(_possessive(lowered[i]) for i in run)
        names[key] += weight
        labels.setdefault(key, " ".join(_possessive(tokens[i]) for i in run))

    # A name is a run of capitalised non-stopwords, with connectors ("Bank of
    # England") inside, that no punctuation breaks.
    caps = [i for i in capitalised if not stop[i]]
    j, m = 0, len(caps)
    while j < m:
        position = caps[j]
        run = [position]
        j += 1
        while True:
            following = position + 1
            if following >= n or following in breaks:
                break
            if j < m and caps[j] == following:
                j += 1
            elif lowered[following] not in CONNECTORS:
                break
            run.append(following)
            position = following
        flush(run)
    return counted


def document_features(
    fields: Iterable[tuple[str, float]],
) -> tuple[Counter, Counter, set, dict, float]:
    """Return (words, names, proper, labels, length) for weighted text fields [(text, weight), …]."""
    words: Counter = Counter()
    names: Counter = Counter()
    proper: set = set()
    labels: dict = {}
    length = 0.0
    for text, weight in fields:
        length += text_features(text, weight, words, names, proper, labels)
    return words, names, proper, labels, length
