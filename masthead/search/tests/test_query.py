"""The query language: reader text becomes a ReaderQuery, then Wagtail's query classes."""

import pytest
from modelsearch.query import And, Fuzzy, Not, Or, Phrase, PlainText

from masthead.search.query import (
    LONG_NOTICE,
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    clean_query,
    parse,
)
from masthead.search.selectors.results import _holds
from masthead.search.vocabulary import tokens

# Input a reader (or a bot) may send; every one must parse without raising.
HOSTILE = [
    '"unbalanced quote',
    'two "unbalanced "quotes',
    "'single",
    "AND",
    "OR",
    "NOT",
    "AND OR NOT",
    "NEAR(",
    "NEAR(a b, 3)",
    "*",
    "^",
    "zel*",
    "^start",
    "headline:",
    "headline:zelensky",
    "title:x body:y",
    "{title body} : x",
    "x" * 10_000,
    "a\x00b",
    "\x00",
    "🚀🔥",
    "زلزال في تركيا",
    "\u202eevil\u202c",
    "'; DROP TABLE wagtailcore_page; --",
    "1 OR 1=1",
    '" OR ""="',
    "%",
    "_",
    "\\",
    "- -- ---",
    "-",
    "()",
    "((((",
    '""',
    "   ",
    "",
    "word\tword\nword",
    "ﬁnance",
    "naïve café",
    "a" * 100 + " " + "b" * 100,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_parses_to_a_query_without_raising(text):
    query = parse(text)
    assert len(query.text) <= MAX_QUERY_LENGTH
    assert "\x00" not in query.text
    built = query.to_search_query()
    assert built is None or isinstance(built, (And, Or, Not, PlainText, Phrase, Fuzzy))


def test_plain_words_are_all_required_and_may_be_misspelled():
    built = parse("zelensky kyiv").to_search_query()
    assert isinstance(built, And)
    assert [type(q) for q in built.subqueries] == [Fuzzy, Fuzzy]
    assert [q.query_string for q in built.subqueries] == ["zelensky", "kyiv"]


def test_short_words_and_numbers_are_not_corrected():
    built = parse("g7 eu 2024").to_search_query()
    assert all(isinstance(q, PlainText) for q in built.subqueries)


def test_quoted_phrase_is_exact():
    built = parse('"city council" budget').to_search_query()
    assert isinstance(built.subqueries[0], Phrase)
    assert built.subqueries[0].query_string == "city council"


def test_minus_excludes_a_word_or_a_phrase():
    query = parse('floods -"river wend" -bridge')
    assert [t.text for t in query.excluded] == ["river wend", "bridge"]
    built = query.to_search_query()
    negated = [q for q in built.subqueries if isinstance(q, Not)]
    assert [type(n.subquery) for n in negated] == [Phrase, PlainText]


def test_or_joins_its_neighbours_only():
    query = parse("macron OR scholz summit")
    assert [[t.text for t in g] for g in query.groups] == [["macron", "scholz"], ["summit"]]
    built = query.to_search_query()
    assert isinstance(built.subqueries[0], Or)


def test_dangling_operators_are_ignored():
    assert [[t.text for t in g] for g in parse("OR budget OR").groups] == [["budget"]]
    assert parse("AND").is_empty
    assert parse("NOT").is_empty


def test_only_exclusions_is_an_empty_query():
    assert parse("-budget").is_empty
    assert parse("-budget").to_search_query() is None


def test_typed_field_filters_are_dropped_and_reported():
    query = parse("headline:zelensky kyiv")
    assert query.dropped == ("headline:zelensky",)
    assert [t.text for t in query.terms] == ["kyiv"]


def test_symbols_around_words_are_stripped_but_words_inside_kept():
    assert [t.text for t in parse("(zel*) ^kyiv! u.s.").terms] == ["zel", "kyiv", "u.s"]


def test_unbalanced_quote_opens_no_phrase():
    query = parse('"city council budget')
    assert not any(t.phrase for t in query.terms)
    assert [t.text for t in query.terms] == ["city", "council", "budget"]


def test_long_input_is_trimmed_with_a_notice():
    text, notice = clean_query("word " * 1000)
    assert len(text) <= MAX_QUERY_LENGTH
    assert notice == LONG_NOTICE
    assert parse("word " * 1000).notices == (LONG_NOTICE,)


def test_control_and_bidi_characters_are_removed():
    assert clean_query("a\x00b\u202ec")[0] == "abc"


def test_term_count_is_capped():
    query = parse(" ".join(f"word{i}" for i in range(30)))
    assert len(query.terms) == MAX_TERMS
    assert any("first" in n for n in query.notices)


def test_headline_phrase_is_the_phrase_or_all_words():
    assert parse('"River Festival" returns').headline_phrase == "river festival"
    assert parse("river festival").headline_phrase == "river festival"
    assert parse("river OR festival").headline_phrase == ""


def test_replace_words_keeps_phrases_or_and_exclusions():
    query = parse('ukriane OR kyiv "grain deal" -russia')
    assert query.replace_words({"ukriane": "ukraine"}) == 'ukraine OR kyiv "grain deal" -russia'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ukraine grain", True),  # words in the headline and the body
        ("grain wheat", True),
        ("elysee talks", True),  # folded as the index folds it
        ("ukraine barley", False),  # a word the story does not hold
        ("ukrain", False),  # a prefix is not the word
        ('"grain exports"', False),  # phrases, OR and exclusions are left to the database
        ("ukraine OR barley", False),
        ("ukraine -odesa", False),
    ],
)
def test_holds_judges_only_plain_words_against_a_story(text, expected):
    story = ("Ukraine grain exports", "Élysée talks", "Wheat left the port.")
    assert _holds(parse(text), set(tokens(" ".join(story)))) is expected
