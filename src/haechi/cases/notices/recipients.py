"""Where notices go, and what each recipient needs (domain.md §3.3–§3.6, §4.4).

Addresses are the public ones the sources name: Telegram's automated takedown address
``abuse@telegram.org`` (it asks for t.me links) and ``stopCA@telegram.org`` for child
sexual abuse material. The KCSC and DSCVSC take reports through their own channels (the
KCSC's dedicated Telegram hotline address is not public; DSCVSC: d4u.stop.or.kr, 1366),
and Telegram's DSA notices go through telegram.org/dsa-report: for those the notice text is
prepared and the address is whatever the sender gives.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from haechi.cases.model import CaseError
from haechi.i18n import t_


class RecipientKey(enum.StrEnum):
    TELEGRAM_ABUSE = "telegram_abuse"
    TELEGRAM_STOPCA = "telegram_stopca"
    KCSC = "kcsc"
    DSCVSC = "dscvsc"
    DSA = "dsa"


LANGUAGES = ("ko", "en", "fr")


@dataclass(frozen=True)
class Recipient:
    key: RecipientKey
    address: str | None  # default e-mail address; None: the sender gives it
    channel: str  # how the recipient takes notices, for the person sending it
    telegram_only: bool  # every item must be a t.me link
    acts_for_victim: bool  # made on the victim's behalf: their takedown consent is required
    needs_victim: bool  # cannot be made without a victim on record
    default_language: str


RECIPIENTS: dict[RecipientKey, Recipient] = {
    RecipientKey.TELEGRAM_ABUSE: Recipient(
        RecipientKey.TELEGRAM_ABUSE,
        "abuse@telegram.org",
        "e-mail to abuse@telegram.org (automated takedown address; include t.me links)",
        telegram_only=True,
        acts_for_victim=False,
        needs_victim=False,
        default_language="en",
    ),
    RecipientKey.TELEGRAM_STOPCA: Recipient(
        RecipientKey.TELEGRAM_STOPCA,
        "stopCA@telegram.org",
        "e-mail to stopCA@telegram.org (child sexual abuse material)",
        telegram_only=True,
        acts_for_victim=False,
        needs_victim=False,
        default_language="en",
    ),
    RecipientKey.KCSC: Recipient(
        RecipientKey.KCSC,
        None,
        "KCSC damage-relief centre (phone 1377) or the unit's dedicated KCSC channel",
        telegram_only=False,
        acts_for_victim=True,
        needs_victim=False,
        default_language="ko",
    ),
    RecipientKey.DSCVSC: Recipient(
        RecipientKey.DSCVSC,
        None,
        "DSCVSC counselling board d4u.stop.or.kr or phone 1366 / 02-735-8994",
        telegram_only=False,
        acts_for_victim=True,
        needs_victim=True,
        default_language="ko",
    ),
    RecipientKey.DSA: Recipient(
        RecipientKey.DSA,
        None,
        "the provider's DSA notice mechanism (Telegram: https://telegram.org/dsa-report)",
        telegram_only=False,
        acts_for_victim=False,
        needs_victim=False,
        default_language="en",
    ),
}

ALIASES = {
    "telegram": None,
    "abuse": RecipientKey.TELEGRAM_ABUSE,
    "stopca": RecipientKey.TELEGRAM_STOPCA,
}


def resolve(name: str, *, concerns_minor: bool) -> Recipient:
    """``telegram`` goes to stopCA@ when a victim is a minor, to abuse@ otherwise."""
    key = name.strip().lower()
    if key == "telegram":
        chosen = RecipientKey.TELEGRAM_STOPCA if concerns_minor else RecipientKey.TELEGRAM_ABUSE
        return RECIPIENTS[chosen]
    if key in ALIASES and ALIASES[key] is not None:
        alias = ALIASES[key]
        assert alias is not None
        return RECIPIENTS[alias]
    try:
        return RECIPIENTS[RecipientKey(key)]
    except ValueError:
        known = ", ".join(["telegram", *(k.value for k in RecipientKey)])
        raise CaseError(
            t_("Unknown notice recipient {name!r}; use one of {known}.", name=name, known=known)
        ) from None


def check_language(language: str) -> str:
    lang = language.strip().lower()
    if lang not in LANGUAGES:
        raise CaseError(
            t_(
                "Notices are written in {languages}, not {language!r}.",
                languages=", ".join(LANGUAGES),
                language=language,
            )
        )
    return lang
