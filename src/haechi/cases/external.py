"""What a match or graph-finding item may name, checked before it joins a case.

An item added by another capability's id must point at something that exists: a case file
a court reads cannot cite "match 4711" when there never was one.

* **Match**: the number of a row of the matching capability's ``match_hits`` (what
  ``haechi match`` lists), written ``12``, ``#12`` or ``match:12``. With ``--sha256`` the
  file must be one of the match's two files; without it the item takes the matched file.
* **Graph finding**: either a node of the network map (``haechi graph``), checked against
  the store it is built from — ``chat:<id>``, ``account:<id>``, ``bot:<name>``,
  ``tg:<name>``, ``invite:+<hash>``, ``tgc:<channel id>``, ``media:<SHA-256 prefix>``, or
  an identifier ``<kind>:<value>`` (``btc:``, ``eth:``, ``tron:``, ``ton:``, ``phone:``,
  ``email:``, ``kakao_openchat:``, ``discord_invite:``, ``instagram:``, ``x_handle:``,
  ``url:``) as the map spells it — or free text typed as such, ``note:<what it says>``,
  which claims nothing the store could confirm and reads as the investigator's own words.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, func, or_, select

from haechi.analyze.text.entities import KINDS
from haechi.cases.model import CaseError
from haechi.i18n import t_
from haechi.store.models import Account, Blob, Chat
from haechi.store.tables.match import MatchRow
from haechi.store.tables.text import TextEntity

# The map's identifier nodes are named "<kind>:<value>" by the extractor's own kinds.
IDENTIFIER_KINDS = frozenset(k for k in KINDS if not k.startswith("tg_"))
FINDING_FORMS = (
    "chat:<id>, account:<id>, bot:<name>, tg:<name>, invite:+<hash>, tgc:<channel id>, "
    "media:<SHA-256 prefix>, an identifier such as btc:<address> or url:<link>, "
    "or free text written note:<what it says>"
)
_MATCH_ID = re.compile(r"(?:match:|#)?\s*(\d{1,18})")
_HEX = re.compile(r"[0-9a-f]{12,64}")


def check_match(
    conn: Connection, text: str, blob_sha256: str | None
) -> tuple[str, str, dict[str, Any]]:
    """(the match's number as text, the file the item is about, a snapshot of the match)."""
    found = _MATCH_ID.fullmatch(text.strip().lower())
    if found is None:
        raise CaseError(
            t_("A match is named by the number `haechi match` lists, not {text!r}.", text=text)
        )
    match_id = int(found.group(1))
    row = conn.execute(select(MatchRow).where(MatchRow.id == match_id)).first()
    if row is None:
        raise CaseError(
            t_(
                "There is no match {match_id}: give a number that `haechi match` lists.",
                match_id=match_id,
            )
        )
    files = [sha for sha in (row.blob_sha256, row.target_blob_sha256) if sha]
    if blob_sha256 is not None and blob_sha256 not in files:
        shown = " and ".join(f"{sha[:16]}…" for sha in files)
        raise CaseError(
            t_(
                "The file {blob_sha256}… is not one of match {match_id}'s files ({shown}).",
                blob_sha256=blob_sha256[:16],
                match_id=match_id,
                shown=shown,
            )
        )
    snapshot = {
        "kind": row.kind,
        "target": row.target,
        "distance": row.distance,
        "bank": row.bank_name,
        "target_blob_sha256": row.target_blob_sha256,
    }
    return str(match_id), blob_sha256 or row.blob_sha256, snapshot


def check_finding(conn: Connection, text: str) -> str:
    """The finding's reference as stored; refuses one that names nothing real."""
    prefix, sep, value = text.strip().partition(":")
    prefix = prefix.lower()
    if not sep or not value.strip():
        raise CaseError(
            t_(
                "A graph finding is {finding_forms}; {text!r} is none of them.",
                finding_forms=FINDING_FORMS,
                text=text,
            )
        )
    if prefix == "note":
        return f"note:{value.strip()}"
    if not _node_exists(conn, prefix, value):
        if prefix in _KNOWN_PREFIXES:
            raise CaseError(
                t_(
                    "Nothing in the store is {prefix}:{value}, so no network map "
                    "shows it: check the id against `haechi graph`, or type free "
                    "text as note:<...>.",
                    prefix=prefix,
                    value=value,
                )
            )
        raise CaseError(
            t_(
                "A graph finding is {finding_forms}; {text!r} is none of them.",
                finding_forms=FINDING_FORMS,
                text=text,
            )
        )
    return f"{prefix}:{value}"


_KNOWN_PREFIXES = frozenset(
    {"chat", "account", "bot", "tg", "invite", "tgc", "media"} | IDENTIFIER_KINDS
)


def _node_exists(conn: Connection, prefix: str, value: str) -> bool:
    if prefix in ("chat", "account"):
        if not value.isdigit():
            return False
        table = Chat if prefix == "chat" else Account
        return conn.execute(select(table.id).where(table.id == int(value))).first() is not None
    if prefix in ("bot", "tg"):
        return _username_known(conn, value.lstrip("@").lower())
    if prefix == "invite":
        return _entity(conn, ["tg_invite"], value)
    if prefix == "tgc":
        return value.isdigit() and _entity_like(conn, "tg_private_message", f"c/{value}")
    if prefix == "media":
        low = value.lower()
        if not _HEX.fullmatch(low):
            return False
        blob = select(Blob.sha256).where(Blob.sha256.like(f"{low}%")).limit(1)
        return conn.execute(blob).first() is not None
    if prefix in IDENTIFIER_KINDS:
        return _entity(conn, [prefix], value)
    return False


def _entity(conn: Connection, kinds: list[str], value: str) -> bool:
    stmt = select(TextEntity.id).where(TextEntity.kind.in_(kinds), TextEntity.value == value)
    return conn.execute(stmt.limit(1)).first() is not None


def _entity_like(conn: Connection, kind: str, stem: str) -> bool:
    """An entity whose value is ``stem`` or ``stem/<more>`` (a message link of it)."""
    # "_" is a LIKE wildcard and usernames are full of them.
    pattern = stem.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
    stmt = select(TextEntity.id).where(
        TextEntity.kind == kind,
        or_(TextEntity.value == stem, TextEntity.value.like(pattern, escape="\\")),
    )
    return conn.execute(stmt.limit(1)).first() is not None


def _username_known(conn: Connection, low: str) -> bool:
    """A public @name the evidence shows: a chat's or account's own, or one named in text."""
    if not low:
        return False
    for table in (Chat, Account):
        stmt = select(table.id).where(func.lower(table.username) == low).limit(1)
        if conn.execute(stmt).first() is not None:
            return True
    return _entity(conn, ["tg_username", "tg_bot"], low) or _entity_like(conn, "tg_message", low)
