"""Messages whose decoded text no database column can hold, made storable.

See :mod:`haechi.store.textsafe` for the two treatments (searchable text gets U+FFFD,
identities get a reversible escape). Here we only decide *which* messages need them,
cheaply: a decoded value can hold a NUL or a lone surrogate only through a ``\\u`` escape,
a tdesktop ``\\xHH`` escape (counted as a repair), a literal NUL byte, or invalid UTF-8.
Two ``bytes`` searches per message rule that out for almost every message of a real export.
"""

from __future__ import annotations

from haechi.domain import FileRef, MessageRecord, PeerRef
from haechi.store.textsafe import clean_json, lossless, searchable, storable

UNSTORABLE_WARNING = (
    "Messages hold NUL characters, lone UTF-16 surrogates or invalid UTF-8, which no "
    "database text column can store: in their searchable text, names and entities each such "
    "character is shown as U+FFFD; their raw JSON is kept exactly (in haechi's escaped form "
    "where the JSON text itself holds one, see docs/ingest.md)"
)


def may_hold_unstorable(data: bytes, repaired: int) -> bool:
    """Whether the message decoded from ``data`` may hold text a column cannot take (the
    caller adds invalid UTF-8, which it detects while decoding)."""
    return bool(repaired) or b"\\u" in data or b"\x00" in data


_MESSAGE_TEXTS = (
    "text", "sender_name", "author", "forwarded_from", "saved_from", "via_bot",
    "reply_to_peer", "action", "media_type", "date_raw", "edited_raw",
)  # fmt: skip
_FILE_TEXTS = ("file_name", "mime_type", "media_type", "note")


def _clean_fields(obj: MessageRecord | FileRef, names: tuple[str, ...]) -> bool:
    changed = False
    for name in names:
        value = getattr(obj, name)
        clean = searchable(value)
        if clean != value:
            setattr(obj, name, clean)
            changed = True
    return changed


def clean_record(m: MessageRecord) -> bool:
    """Make every text of ``m`` storable, in place; True when anything had to change."""
    changed = _clean_fields(m, _MESSAGE_TEXTS)
    raw = lossless(m.raw)  # the message's identity as evidence: reversible, never lossy
    if raw != m.raw:
        m.raw, changed = raw, True
    if m.sender is not None and m.sender.raw is not None and not storable(m.sender.raw):
        m.sender = PeerRef(m.sender.kind, m.sender.id, searchable(m.sender.raw))
        changed = True
    entities = clean_json(m.entities)
    if entities != m.entities:
        m.entities, changed = entities, True
    keys = tuple(searchable(k) or "" for k in m.unknown_keys)
    if keys != m.unknown_keys:
        m.unknown_keys, changed = keys, True
    for ref in m.files:
        changed |= _clean_fields(ref, _FILE_TEXTS)
        if ref.export_path is not None:  # the file's identity: reversible, never merged
            path = lossless(ref.export_path)
            if path != ref.export_path:
                ref.export_path, changed = path, True
    return changed
