"""kiwipiepy, the Korean morphological analyser: morpheme boundaries and lemmas.

Two uses, both only on the few messages that need them (kiwi costs about 1 ms a call and
a one-off model load of several seconds):

- ``morpheme_aligned``: a candidate hit of a ``morph_check`` term must start and end on
  morpheme boundaries ("다이아" in "다이아몬드" does not);
- ``lemma_spans``: terms given as lemmas ("벗기/VV") match every inflection of the stem
  ("벗기고", "벗긴", "벗겨서", "벗겼다"), which surface forms cannot list. kiwi is asked
  only when the stem's first syllable occurs in the message.
"""

from __future__ import annotations

import importlib.util
import threading
from typing import Any

from haechi.domain import UsageError

KIWI_WINDOW = 48  # characters of context either side of a hit given to kiwipiepy


def kiwi_installed() -> bool:
    """Whether kiwipiepy can be imported, without importing it (that costs ~0.1 s)."""
    try:
        return importlib.util.find_spec("kiwipiepy") is not None
    except (ImportError, ValueError):
        return False


def kiwi_missing(reason: str, checked: list[str] | None = None) -> UsageError:
    which = f" ({len(checked)}, such as {', '.join(checked[:3])})" if checked else ""
    return UsageError(
        f"The lexicon's morph_check and lemma terms{which} need the Korean morphological "
        f"analyser kiwipiepy, but {reason}: install it with pip install 'haechi[text]' (or "
        "remove morph_check and lemmas from an analyst's terms)."
    )


class _Kiwi:
    """kiwipiepy, loaded on first use (≈1 s, ~100 MB), once per process."""

    _lock = threading.Lock()
    _kiwi: Any = None
    calls = 0

    @classmethod
    def _loaded(cls) -> Any:
        """The analyser (the caller holds the lock)."""
        if cls._kiwi is None:
            try:
                from kiwipiepy import Kiwi
            except ImportError as exc:  # installed but broken (a missing native library)
                raise kiwi_missing(f"it cannot be loaded ({exc})") from exc
            cls._kiwi = Kiwi()
        return cls._kiwi

    @classmethod
    def analyse(cls, text: str) -> list[tuple[int, int, str, str]]:
        """(start, end, form, tag) of every morpheme of ``text``."""
        with cls._lock:
            kiwi = cls._loaded()
            cls.calls += 1
            return [(t.start, t.start + t.len, t.form, t.tag) for t in kiwi.tokenize(text)]

    @classmethod
    def similar(cls, form: str, tag: str, top_n: int) -> list[tuple[str, str, float]]:
        """(form, tag, cosine) of the ``top_n`` morphemes nearest to ``form``/``tag`` in
        kiwipiepy's built-in CoNg model (0.24 and later; no download), [] for a morpheme
        the model does not know."""
        with cls._lock:
            kiwi = cls._loaded()
            if not hasattr(kiwi, "most_similar_morphemes"):
                raise kiwi_missing(
                    "the installed version has no CoNg model (the message model's morpheme "
                    "features need kiwipiepy 0.24 or later)"
                )
            try:
                near = kiwi.most_similar_morphemes((form, tag), top_n=top_n)
            except (ValueError, KeyError):  # not in the model's vocabulary
                return []
            return [(m.form, m.tag, float(m.score)) for m in near]

    @classmethod
    def tokens(cls, text: str) -> list[tuple[int, int]]:
        return [(s, e) for s, e, _, _ in cls.analyse(text)]


def _window(text: str, start: int, end: int) -> tuple[int, int]:
    lo = max(0, start - KIWI_WINDOW)
    hi = min(len(text), end + KIWI_WINDOW)
    # Cut the window at spaces so kiwi sees whole words.
    while lo > 0 and not text[lo - 1].isspace() and start - lo < KIWI_WINDOW * 2:
        lo -= 1
    while hi < len(text) and not text[hi].isspace() and hi - end < KIWI_WINDOW * 2:
        hi += 1
    return lo, hi


def morpheme_aligned(text: str, start: int, end: int) -> bool:
    """Does kiwipiepy split ``text`` so that no morpheme straddles ``start`` or ``end``?"""
    lo, hi = _window(text, start, end)
    s, e = start - lo, end - lo
    return not any(a < s < b or a < e < b for a, b in _Kiwi.tokens(text[lo:hi]))


def lemma_spans(
    text: str, lemmas: dict[tuple[str, str], str], starts: list[int]
) -> list[tuple[int, int, str]]:
    """(start, end, term id) of every morpheme of ``text`` that is one of ``lemmas``
    ((stem, tag prefix) -> term id), looking only near ``starts`` (where a stem's first
    syllable occurs). Spans are the morpheme's surface span in ``text``."""
    out: dict[tuple[int, int], str] = {}
    covered = -1
    for pos in starts:
        if pos < covered:
            continue  # already inside an analysed window
        lo, hi = _window(text, pos, pos + 1)
        covered = hi
        for s, e, form, tag in _Kiwi.analyse(text[lo:hi]):
            for (stem, prefix), term_id in lemmas.items():
                if form == stem and tag.startswith(prefix):
                    out.setdefault((lo + s, lo + e), term_id)
    return [(s, e, t) for (s, e), t in sorted(out.items())]
