"""What the full-text index stores of a message, and how a query word becomes index terms.

Korean writes particles and endings onto the word (사진을, 사진이) and joins nouns into
compounds without spaces (고양이사진, 딥페이크영상), so neither whole words nor word
prefixes find 영상 inside 딥페이크영상. Besides each word (matched by prefix), the index
keeps the *syllable bigrams* of every run of Hangul syllables (딥페 페이 이크 크영 영상), as
CJK search engines do: a Korean query word of two or more syllables is then the phrase of
its bigrams, found wherever it stands inside a word, at the start, in the middle or at the
end. ``bench/bench_search_ko.py`` measured the alternatives on labelled Korean queries
(kiwipiepy morphemes, pg_trgm trigrams): see docs/benchmarks.md.

Bigram runs of different words are kept apart (a gap in PostgreSQL's positions, a filler
token in SQLite's column), so a phrase never spans two words. Both back ends store and
query the same terms, so they find the same messages.
"""

from __future__ import annotations

import re

WORD = re.compile(r"[^\W_]+")  # letters and digits, as the query is split
_SYLLABLES = re.compile(r"[\uac00-\ud7a3]+")  # precomposed Hangul syllables
GRAM_GAP = "x"  # between two words' bigram runs (SQLite); never a query's bigram
MAX_POSITION = 16_383  # PostgreSQL's highest tsvector position


def words(text: str | None) -> list[str]:
    return WORD.findall(text or "")


def is_korean_word(token: str) -> bool:
    """A query token matched by its bigrams: Hangul syllables only, two or more."""
    return len(token) >= 2 and _SYLLABLES.fullmatch(token) is not None


def bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def gram_runs(text: str | None) -> list[list[str]]:
    """The bigrams of each run of two or more Hangul syllables, lower-cased text first."""
    return [bigrams(run) for run in _SYLLABLES.findall(text or "") if len(run) >= 2]


def grams_text(text: str | None) -> str:
    """SQLite's ``grams`` column: each run's bigrams, runs separated by a filler."""
    return f" {GRAM_GAP} ".join(" ".join(run) for run in gram_runs(text))


def pg_document(text: str | None, facets: str) -> str:
    """A ``tsvector`` literal: words (weight A, prefix-matched), bigrams (B, positions
    consecutive within a run and a gap between runs) and facets (D). Tokens hold letters
    and digits only, so no quoting is needed beyond the surrounding quotes. Written for
    speed (the index of 10M messages is built here): one comprehension per part."""
    found = words(text)
    runs = [run for run in _SYLLABLES.findall(text or "") if len(run) >= 2]
    tags = facets.split()
    if len(found) + sum(len(r) for r in runs) + len(tags) >= MAX_POSITION:
        return _capped(found, runs, tags)
    parts = [f"'{w.lower()}':{i}A" for i, w in enumerate(found, 1)]
    pos = len(found)
    for run in runs:
        pos += 1  # the gap: no phrase runs from one word's bigrams into the next
        parts += [f"'{run[j : j + 2]}':{pos + j + 1}B" for j in range(len(run) - 1)]
        pos += len(run) - 1
    parts += [f"'{tag}':{pos + k}D" for k, tag in enumerate(tags, 1)]
    return " ".join(parts)


def _capped(found: list[str], runs: list[str], tags: list[str]) -> str:
    """The same for a very long text: positions stop at PostgreSQL's highest."""
    parts: list[str] = []
    pos = 0
    for word in found:
        pos = min(pos + 1, MAX_POSITION)
        parts.append(f"'{word.lower()}':{pos}A")
    for run in runs:
        pos += 1
        for gram in bigrams(run):
            pos = min(pos + 1, MAX_POSITION)
            parts.append(f"'{gram}':{pos}B")
    for tag in tags:
        pos = min(pos + 1, MAX_POSITION)
        parts.append(f"'{tag}':{pos}D")
    return " ".join(parts)
