"""Messages of the command line and of the files haechi writes for people (the evidence
package's README), in English and Korean: gettext catalogues kept as ``.po`` files
(``locale/<lang>/LC_MESSAGES/haechi.po``), read at run time with Babel, so a translation is
edited and shipped without a build step.

* ``_("...")`` marks a message (``pybabel extract`` finds it: ``make i18n`` refreshes the
  template and the Korean catalogue) and returns it in the chosen language.
* The language: ``haechi --lang ko``, else ``HAECHI_LANG``, else the locale (``LC_ALL``,
  ``LC_MESSAGES``, ``LANG`` starting with ``ko``), else English. A message without a
  translation (or marked fuzzy) is shown in English.

* ``t_("At most {n} photos at a time.", n=limit)`` marks a sentence a service raises: it
  is the formatted English text (``str()``, logs, the JSON API and tests see English), a
  :class:`Msg` that also keeps its template and parameters, so whoever shows it to a person
  translates it then with ``localize(text_or_error, lang)`` — the web serves many languages
  from one process, so there is no language when the service raises.

The web application has its own catalogues (``haechi/web/locales``); the standalone package
verifier carries its Korean inside itself (it must run with Python and ``cryptography``
only).
"""

from __future__ import annotations

import os
import pickle
from functools import cache
from importlib import resources
from typing import Any

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


class Msg(str):
    """A formatted English sentence that remembers how it was made (``template`` and
    ``params``), so it can be shown later in another language. Everything else sees an
    ordinary ``str``: equality, hashing, ``in``, slicing and concatenation (which give a
    plain ``str``). Made by :func:`t_`."""

    template: str
    params: dict[str, Any]

    def __new__(cls, text: str, template: str, params: dict[str, Any]) -> Msg:
        self = super().__new__(cls, text)
        self.template = template
        self.params = params
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # An error crossing a process (ingest readers, the job worker, a pool) keeps its
        # English text exactly and its template; a parameter that cannot be pickled (an
        # exception holding a socket, say) travels as its text, so the error still does.
        params = self.params
        try:
            pickle.dumps(params)
        except Exception:
            params = {
                k: v if isinstance(v, str | int | float | bool | None) else str(v)
                for k, v in params.items()
            }
        return (Msg, (str.__str__(self), self.template, params))


def t_(template: str, /, **params: Any) -> Msg:
    """Marks a service's sentence for translation at display time (``pybabel extract -k
    t_`` finds ``template``). ``template`` uses ``{name}`` fields (``{{`` for a brace);
    ``params`` are inserted as given, never translated — unless one is itself a ``Msg``
    (a noun such as ``t_("title")``), which is translated with the sentence."""
    return Msg(template.format(**params), template, params)


def localize(item: object, lang: str) -> str:
    """``item`` (a ``Msg``, an error raised with one, or any text) as a sentence in
    ``lang``: the template's translation from the haechi catalogue, formatted with the
    parameters. English when there is no translation, or when a translation does not fit
    its parameters (a catalogue mistake must not hide the refusal)."""
    if isinstance(item, BaseException):
        args = item.args
        text = str(item)
        # Only an error whose sentence is its one Msg argument (a custom __str__ wins).
        if len(args) == 1 and isinstance(args[0], Msg) and text == args[0]:
            return localize(args[0], lang)
        return text
    if not isinstance(item, Msg):
        return str(item)
    if lang not in LANGUAGES or lang == "en":
        return str.__str__(item)
    params = {k: localize(v, lang) if isinstance(v, Msg) else v for k, v in item.params.items()}
    try:
        return translate(item.template, lang).format(**params)
    except (KeyError, IndexError, ValueError):
        return str.__str__(item)
