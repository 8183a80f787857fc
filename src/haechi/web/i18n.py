"""Korean and English message catalogues (``locales/<lang>.json``), the browser's language
(``Accept-Language``) and the visitor's choice (the ``lang`` cookie).

A missing key falls back to English and then to the key itself, so a half-translated page
still works; a test keeps both catalogues' keys identical, and every key or value a page
asked for and did not find is remembered in ``MISSING`` (the test that walks every page in
Korean reads it).

Values the software itself names — chat types, statuses, service actions, roles, custody
event types — are shown through :meth:`Translator.enum` (``enum.<kind>.<value>`` keys),
never raw: one name per concept, in the reader's language (glossary in docs/web.md).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("ko", "en")
DEFAULT = "en"
COOKIE = "haechi_lang"
MISSING: set[str] = set()  # keys asked for and found in no catalogue (bounded below)
_MISSING_MAX = 1000


@cache
def catalogue(lang: str) -> dict[str, str]:
    raw = resources.files("haechi.web").joinpath("locales", f"{lang}.json").read_text("utf-8")
    data: dict[str, str] = json.loads(raw)
    return data


def negotiate(accept_language: str | None, cookie: str | None) -> str:
    """The cookie when valid, else the best language the browser asks for, else English."""
    if cookie in LANGUAGES:
        return str(cookie)
    best, best_q = DEFAULT, -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT
        self._own = catalogue(self.lang)
        self._fallback = catalogue(DEFAULT)

    def __call__(self, key: str, **values: Any) -> str:
        template = self._own.get(key) or self._fallback.get(key)
        if template is None:
            _miss(key)
            template = key
        if values:
            try:
                return template.format(**values)
            except (KeyError, IndexError, ValueError):
                return template
        return template

    def enum(self, kind: str, value: object) -> str:
        """A value the software names (``chat_type``/``private_supergroup``), translated;
        an unknown one is shown as it is and remembered in ``MISSING``."""
        if value is None or value == "":
            return "—"
        key = f"enum.{kind}.{value}"
        found = self._own.get(key) or self._fallback.get(key)
        if found is None:
            _miss(key)
            return str(value)
        return found

    def has(self, key: str) -> bool:
        return key in self._own or key in self._fallback


def _miss(key: str) -> None:
    if len(MISSING) < _MISSING_MAX:
        MISSING.add(key)
