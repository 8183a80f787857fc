"""Compose a notice's text from a case's items: links, ids, hashes, statutes, statements.

A notice carries identifiers only: links, chat and message ids, posting times and file
hashes, plus the statutes and required statements. Never an image, never a message's text
(it may name the victim), never a chat title (the same). What cannot be reported is
refused with one sentence: an item without a public link, a Telegram notice for a link
elsewhere, a victim without a consent record, a DSA notice without the notifier's identity
where the DSA requires it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from urllib.parse import urlsplit

from haechi import __version__
from haechi.cases.links import TME_HOSTS
from haechi.cases.model import CaseDetail, CaseError, ConsentScope, ItemView, VictimView
from haechi.cases.notices import lang_en, lang_fr, lang_ko
from haechi.cases.notices.recipients import Recipient, RecipientKey
from haechi.cases.timefmt import both
from haechi.domain.display import visible
from haechi.i18n import t_

LANG: dict[str, ModuleType] = {"en": lang_en, "ko": lang_ko, "fr": lang_fr}


@dataclass(frozen=True)
class Notifier:
    person_name: str | None = None
    email: str | None = None
    organisation: str | None = None
    phone: str | None = None
    role: str | None = None

    @property
    def empty(self) -> bool:
        return not any((self.person_name, self.email, self.organisation, self.phone))


@dataclass(frozen=True)
class Entry:
    """One location to act on; the items (message and its files) that share it."""

    url: str
    item_ids: tuple[int, ...]
    chat_tg_id: int | None
    message_id: int | None
    posted_unix: int | None
    sha256s: tuple[str, ...]


@dataclass
class ComposedNotice:
    recipient: Recipient
    language: str
    subject: str
    body: str
    entries: list[Entry]
    notifier: Notifier | None
    concerns_minor: bool
    warnings: list[str] = field(default_factory=list)


def _is_tme(url: str) -> bool:
    return urlsplit(url).hostname in TME_HOSTS


def select_items(
    detail: CaseDetail, item_ids: Sequence[int] | None
) -> tuple[list[ItemView], list[str]]:
    """The items to report, and warnings for those left out of an implicit selection."""
    by_id = {i.id: i for i in detail.items}
    warnings: list[str] = []
    if item_ids:
        chosen = []
        for iid in item_ids:
            item = by_id.get(iid)
            if item is None:
                raise CaseError(t_("Case {ref} has no item {iid}.", ref=detail.ref, iid=iid))
            if item.withdrawn:
                raise CaseError(
                    t_(
                        "Item {iid} of case {ref} was withdrawn; it cannot be reported.",
                        iid=iid,
                        ref=detail.ref,
                    )
                )
            chosen.append(item)
        return chosen, warnings
    chosen = []
    for item in detail.active_items():
        if item.url is None:
            warnings.append(
                f"item {item.id} ({describe(item)}) has no public link and was left out"
            )
            continue
        chosen.append(item)
    return chosen, warnings


def describe(item: ItemView) -> str:
    if item.message_id is not None and item.chat_tg_id is not None:
        return f"message {item.message_id} in chat {item.chat_peer_kind}:{item.chat_tg_id}"
    if item.blob_sha256:
        return f"file {item.blob_sha256[:16]}…"
    return item.ref


def check_items(items: list[ItemView], recipient: Recipient, case_ref: str) -> None:
    if not items:
        raise CaseError(
            t_("Case {case_ref} has no item with a public link to report.", case_ref=case_ref)
        )
    for item in items:
        if item.url is None:
            raise CaseError(
                t_(
                    "Item {id} ({item}) has no public link, so it cannot be "
                    "reported: give its chat's t.me link with `haechi case "
                    "add-chat --url`, or leave the item out.",
                    id=item.id,
                    item=describe(item),
                )
            )
        if recipient.telegram_only and not _is_tme(item.url):
            host = urlsplit(item.url).hostname
            raise CaseError(
                t_(
                    "Item {id} links {host}, not Telegram: report it to that "
                    "site or the KCSC instead.",
                    id=item.id,
                    host=host,
                )
            )


def check_consent(victims: list[VictimView], recipient: Recipient, case_ref: str) -> None:
    if recipient.needs_victim and not victims:
        raise CaseError(
            t_(
                "A {upper} request is made for a victim, and case {case_ref} "
                "has none: add the victim and their consent first.",
                upper=recipient.key.value.upper(),
                case_ref=case_ref,
            )
        )
    for victim in victims:
        if not victim.consents_to(ConsentScope.TAKEDOWN):
            raise CaseError(
                t_(
                    "Victim {label} of case {case_ref} has no consent record for "
                    "takedown requests: record it with `haechi case consent` "
                    "before drafting a notice.",
                    label=victim.label,
                    case_ref=case_ref,
                )
            )


def check_notifier(notifier: Notifier | None, recipient: Recipient, minor: bool) -> None:
    if recipient.key is not RecipientKey.DSA or minor:
        return
    if notifier is None or not notifier.person_name or not notifier.email:
        raise CaseError(
            t_(
                "A DSA Article 16 notice must give the notifier's name and "
                "e-mail address (Art. 16(2)(c)) unless it concerns child "
                "sexual abuse: set a notifier profile with `haechi notice "
                "profile`."
            )
        )


def entries_of(items: list[ItemView]) -> list[Entry]:
    grouped: dict[str, list[ItemView]] = {}
    for item in items:
        assert item.url is not None
        grouped.setdefault(item.url, []).append(item)
    out = []
    for url, group in grouped.items():
        first = next((i for i in group if i.message_id is not None), group[0])
        shas = tuple(dict.fromkeys(i.blob_sha256 for i in group if i.blob_sha256))
        out.append(
            Entry(
                url=url,
                item_ids=tuple(i.id for i in group),
                chat_tg_id=first.chat_tg_id,
                message_id=first.message_id,
                posted_unix=first.date_unix,
                sha256s=shas,
            )
        )
    return out


def statutes_for(recipient: Recipient, minor: bool) -> list[str]:
    korean = ["child_youth_11", "art14_2"] if minor else ["art14_2"]
    if recipient.key in (RecipientKey.TELEGRAM_ABUSE, RecipientKey.TELEGRAM_STOPCA):
        return [*korean, "tg_rules"]
    if recipient.key is RecipientKey.KCSC:
        return ["network_44_7", *korean]
    if recipient.key is RecipientKey.DSCVSC:
        return ["svpa_7_3", *korean]
    return [*korean, "eu_2011_93" if minor else "eu_2024_1385"]


def _entry_lines(entries: list[Entry], t: dict[str, str]) -> list[str]:
    lines = []
    for n, entry in enumerate(entries, 1):
        lines.append(f"{n}. {t['link']}: {entry.url}")
        if entry.chat_tg_id is not None:
            lines.append(f"   {t['chat_id']}: {entry.chat_tg_id}")
        if entry.message_id is not None:
            lines.append(f"   {t['message_id']}: {entry.message_id}")
        if entry.posted_unix is not None:
            lines.append(f"   {t['posted']}: {both(entry.posted_unix)}")
        for sha in entry.sha256s:
            lines.append(f"   {t['file']}: {sha}")
    return lines


def _notifier_lines(notifier: Notifier, t: dict[str, str]) -> list[str]:
    pairs = [
        ("contact_name", notifier.person_name),
        ("contact_org", notifier.organisation),
        ("contact_email", notifier.email),
        ("contact_phone", notifier.phone),
    ]
    return [f"{t[key]}: {value}" for key, value in pairs if value]


def _victim_lines(
    victims: list[VictimView], revealed: list[VictimView] | None, t: dict[str, str], minor: bool
) -> list[str]:
    if not victims:
        return [t["proactive"], t["victim_minor"]] if minor else [t["proactive"]]
    labels = ", ".join(v.label for v in victims)
    lines = [t["victim_consented"].format(labels=labels)]
    if minor:
        lines.append(t["victim_minor"])
    for v in revealed or []:
        parts = [p for p in (v.display_name, v.contact) if p]
        parts += [f"{i['kind']} {i['value']}" for i in v.identifiers]
        if parts:
            lines.append(t["victim_identity"].format(label=v.label, identity=", ".join(parts)))
    return lines


def compose(
    detail: CaseDetail,
    recipient: Recipient,
    language: str,
    *,
    item_ids: Sequence[int] | None = None,
    notifier: Notifier | None = None,
    legal_basis: Sequence[str] = (),
    revealed_victims: list[VictimView] | None = None,
    withhold_notifier: bool = False,
    notice_number: str = "-",
    minor: bool | None = None,
) -> ComposedNotice:
    """The notice text. ``minor``: whether the content concerns a minor (default: whether a
    victim of the case is recorded as one)."""
    minor = detail.concerns_minor if minor is None else minor
    items, warnings = select_items(detail, item_ids)
    check_items(items, recipient, detail.ref)
    check_consent(detail.victims, recipient, detail.ref)
    if withhold_notifier and not (recipient.key is RecipientKey.DSA and minor):
        raise CaseError(
            t_(
                "The notifier's identity may be withheld only in a DSA "
                "notice concerning child sexual abuse."
            )
        )
    shown = None if withhold_notifier or notifier is None or notifier.empty else notifier
    check_notifier(shown, recipient, minor)
    lang = LANG[language]
    t: dict[str, str] = lang.TEXT
    key = recipient.key.value
    entries = entries_of(items)
    title = lang.TITLES[key]
    subject = t["subject"].format(title=title, ref=detail.ref, n=len(entries))
    legal = [f"- {lang.STATUTES[s]}" for s in statutes_for(recipient, minor)]
    extra = [f"- {line.strip()}" for line in legal_basis if line.strip()]
    if extra:
        legal += ["", t["extra_basis"], *extra]
    action = [lang.ACTIONS[key], t["reupload_request"]]
    notifier_block = _notifier_lines(shown, t) if shown is not None else []
    if shown is None and recipient.key is RecipientKey.DSA:
        notifier_block = [t["notifier_withheld"]]
    victims = _victim_lines(detail.victims, revealed_victims, t, minor)
    body: list[str] = [lang.GREETINGS[key], "", lang.INTROS[key], ""]
    if recipient.key is RecipientKey.DSA:
        body += [t["dsa_a"], *legal, "", *victims, ""]
        body += [
            t["dsa_b"],
            t["items_header"].format(n=len(entries)),
            *_entry_lines(entries, t),
            "",
        ]
        body += [t["dsa_c"], *notifier_block, "", t["dsa_d"], t["good_faith"], ""]
        body += [t["action_header"], *action, ""]
    else:
        body += [t["items_header"].format(n=len(entries)), *_entry_lines(entries, t), ""]
        body += [t["legal_header"], *legal, ""]
        body += [t["action_header"], *action, ""]
        body += [t["victim_header"], *victims, ""]
        if notifier_block:
            body += [t["notifier_header"], *notifier_block, ""]
        body += [t["good_faith"], ""]
    body += [t["no_images"], t["reference"].format(ref=detail.ref, notice=notice_number), ""]
    signature = (shown.organisation or shown.person_name or "") if shown else ""
    body += [t["closing"], signature]
    body.append(f"-- haechi {__version__}")
    # A link or reference copied from a room may hide a reordering character: the people
    # who read the notice see it as a visible token (⟨RLO⟩), as on every page.
    text = visible("\n".join(body).replace("\n\n\n", "\n\n") + "\n")
    return ComposedNotice(
        recipient=recipient,
        language=language,
        subject=visible(subject),
        body=text,
        entries=entries,
        notifier=shown,
        concerns_minor=minor,
        warnings=warnings,
    )
