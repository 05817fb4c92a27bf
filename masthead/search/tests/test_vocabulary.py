"""Spelling: edit distance, candidate choice and the words the vocabulary keeps."""

import pytest

from masthead.search import vocabulary


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("ukraine", "ukraine", 0),
        ("ukriane", "ukraine", 1),  # two letters swapped
        ("zelensly", "zelensky", 1),  # one replaced
        ("macrn", "macron", 1),  # one dropped
        ("geneeva", "geneva", 1),  # one doubled
        ("kyiv", "kiev", 2),
        ("abc", "xyz", 3),
    ],
)
def test_edit_distance_counts_swaps_as_one(a, b, distance):
    assert vocabulary.edit_distance(a, b, 3) == distance


def test_edit_distance_stops_past_its_limit():
    assert vocabulary.edit_distance("a" * 10, "b" * 10, 2) == 3


def test_best_corrections_prefer_close_then_common_words():
    fixes = vocabulary.best_corrections(
        "brdge", [("bridge", 40), ("badge", 3), ("bridges", 9), ("brdge", 1)]
    )
    assert [w for w, _d, _n in fixes] == ["bridge", "badge"]


def test_known_word_is_corrected_only_when_a_neighbour_is_much_commoner():
    assert vocabulary.needs_correction("zelensly", 0, [("zelensky", 1, 5)])
    assert vocabulary.needs_correction("zelensly", 1, [("zelensky", 1, 50)])
    assert not vocabulary.needs_correction("brexit", 30, [("brexits", 1, 40)])
    assert not vocabulary.needs_correction("anything", 0, [])


def test_words_are_folded_and_filtered():
    assert vocabulary.words("Macrón met 2 MPs in Genève, 2024!") == [
        "macron",
        "met",
        "mps",
        "geneve",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "snake_case, e-mail: a@b.co/x?y=1&z=2 <CPAC.O> 3.5% (12:30) #tag ~x^y|z",
        "tab\there\x1fsep\x00nul\x7fdel\r\nline",
        "Zelensky’s “Élysée” visit — İstanbul, Ærø, Straße ½ naïve",
        "Зеленський, 北京, العربية, emoji 🙂 and cómbining",
        "",
    ],
)
def test_tokens_split_as_the_unicode_word_pattern(text):
    # The fast paths (ASCII text split by str methods, combining marks looked for only
    # in non-ASCII runs) must give what the plain definitions give.
    import re
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    assert vocabulary.fold(text) == folded
    assert vocabulary.tokens(text) == re.findall(r"[^\W_]+", folded)


def test_best_corrections_are_the_same_without_rapidfuzz(monkeypatch):
    candidates = [
        ("gorbachev", 900),
        ("gorachev", 1),
        ("garachevv", 4),
        ("orachev", 2),
        ("goracheva", 7),
        ("karachi", 50),
        ("gorbachov", 3),
        ("rachev", 8),
        ("ukraine", 30),
        ("gorachve", 5),
    ]
    with_c = vocabulary.best_corrections("gorachev", candidates, limit=10)
    monkeypatch.setattr(vocabulary, "fuzz_process", None)
    assert vocabulary.best_corrections("gorachev", candidates, limit=10) == with_c
    assert [w for w, _d, _n in with_c][:3] == ["gorbachev", "goracheva", "gorachve"]
    assert "orachev" not in [w for w, _d, _n in with_c]  # another first letter, and others keep it


def test_likely_corrections_drop_farther_and_far_rarer_words():
    fixes = [
        ("tokyo", 1, 3074),
        ("token", 1, 94),
        ("tokyos", 1, 200),
        ("tokio", 1, 5),
        ("tolkien", 2, 900),
    ]
    assert vocabulary.likely_corrections(fixes) == [("tokyo", 1, 3074), ("tokyos", 1, 200)]
    # Words about as common as each other all stay: "bann" may be bank, ban or band.
    close = [("bank", 1, 5), ("ban", 1, 3), ("band", 1, 1)]
    assert vocabulary.likely_corrections(close) == close
    assert vocabulary.likely_corrections([]) == []
