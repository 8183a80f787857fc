"""Messages of the command line and of the files haechi writes for people (the evidence
package's README), in English and Korean: gettext catalogues kept as ``.po`` files
(``locale/<lang>/LC_MESSAGES/haechi.po``), read at run time with Babel, so a translation is
edited and shipped without a build step.

* ``_("...")`` marks a message (``pybabel extract`` finds it: ``make i18n`` refreshes the
  template and the Korean catalogue) and returns it in the chosen language.
* The language: ``haechi --lang ko``, else ``HAECHI_LANG``, else the locale (``LC_ALL``,
  ``LC_MESSAGES``, ``LANG`` starting with ``ko``), else English. A message without a
  translation (or marked fuzzy) is shown in English.

The web application has its own catalogues (``haechi/web/locales``); the standalone package
verifier carries its Korean inside itself (it must run with Python and ``cryptography``
only).
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources

LANGUAGES = ("en", "ko")
DOMAIN = "haechi"
_state = {"lang": ""}


def lang_from_env(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    wanted = env.get("HAECHI_LANG", "").strip().lower()
    if wanted in LANGUAGES:
        return wanted
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value:  # the first one set decides, as gettext does
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def set_lang(lang: str | None) -> str:
    """Choose the language of messages (None: from the environment); returns it."""
    chosen = (lang or "").strip().lower()
    _state["lang"] = chosen if chosen in LANGUAGES else lang_from_env()
    return _state["lang"]


def current() -> str:
    return _state["lang"] or set_lang(None)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """``{message: translation}`` of one language (untranslated and fuzzy entries left out)."""
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    path = resources.files("haechi.i18n").joinpath("locale", lang, "LC_MESSAGES", f"{DOMAIN}.po")
    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang, domain=DOMAIN)
    out: dict[str, str] = {}
    for message in cat:
        if not message.id or message.fuzzy or not isinstance(message.id, str):
            continue
        if isinstance(message.string, str) and message.string:
            out[message.id] = message.string
    return out


def translate(message: str, lang: str) -> str:
    return catalogue(lang).get(message, message) if lang != "en" else message


def _(message: str) -> str:
    """``message`` in the chosen language."""
    return translate(message, current())


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; translate it with ``_`` later."""
    return message
