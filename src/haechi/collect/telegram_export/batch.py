"""A chat's messages decoded and normalised a batch at a time: the collector's inner loop.

A message that cannot be decoded as expected is still kept where it can be: bytes that are
not UTF-8 as surrogate escapes, fields of unexpected types verbatim without normalisation;
one whose id no database can index only in the captured file. Each case is a warning.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

from haechi.collect.telegram_export.hostile import (
    UNSTORABLE_WARNING,
    clean_record,
    may_hold_unstorable,
)
from haechi.collect.telegram_export.jsonstream import Element, JsonStream
from haechi.collect.telegram_export.normalize import (
    KIND_MAX,
    Normalizer,
    UnindexableMessage,
    era_clue,
)
from haechi.collect.telegram_export.warnlog import WarningLog
from haechi.domain import Capture, ChatRecord, ExportParseError, MessageRecord
from haechi.i18n import t_
from haechi.store.textsafe import fit

BATCH = 64  # messages per batch: small enough to stay in the CPU cache (1000 was 30% slower)


def parse_batch(
    js: JsonStream,
    elements: Iterator[Element],
    norm: Normalizer,
    chat: ChatRecord | None,
    clues: set[str] | None,
) -> tuple[list[Capture], ExportParseError | None, bool]:
    """Decode and normalise up to BATCH messages with the garbage collector paused.

    The objects built here hold no reference cycles, so pausing the collector loses
    nothing and saves the repeated generation-0 scans a million small dicts trigger.
    Messages parsed before a parse error are returned with it, so they are kept.
    ``chat`` may still be None (its era undecided); the caller fills it in later.
    """
    group: list[Capture] = []
    append = group.append
    message = norm.message
    warnings = norm.warnings
    placeholder: Any = chat
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for offset, data, value, repaired in elements:
            suspect = False
            try:
                raw = data.decode("utf-8")
            except UnicodeDecodeError:
                raw, suspect = _bad_utf8(warnings, data, offset), True
            try:
                record = message(value, raw, offset, repaired)
            except ValueError as exc:
                raise ExportParseError(
                    t_(
                        "{name}: the message at byte {offset} {exc}, so it cannot be "
                        "stored; the export is damaged.",
                        name=js.name,
                        offset=offset,
                        exc=exc,
                    ),
                    path=js.path,
                    offset=offset,
                ) from None
            except UnindexableMessage as exc:
                _unindexable(warnings, offset, str(exc))
                continue
            except (TypeError, AttributeError, KeyError) as exc:
                record = _minimal(warnings, value, raw, offset, repaired, exc)
            if (suspect or may_hold_unstorable(data, repaired)) and clean_record(record):
                warnings.add("unstorable", UNSTORABLE_WARNING)
            append(Capture(placeholder, record))
            if clues is not None:
                clue = era_clue(value)
                if clue is not None:
                    clues.add(clue)
            if len(group) >= BATCH:
                return group, None, False
    except ExportParseError as exc:
        return group, exc, True
    finally:
        if was_enabled:
            gc.enable()
    return group, None, True


def _bad_utf8(warnings: WarningLog, data: bytes, offset: int) -> str:
    # Pre-v4.16 callback data was written as raw bytes and need not be UTF-8. Keep
    # the bytes recoverable: surrogateescape maps each bad byte to U+DC80..U+DCFF.
    warnings.add(
        "utf8",
        f"A message (first at byte {offset}) is not valid UTF-8; its raw text keeps the "
        "bad bytes as surrogate escapes.",
    )
    return data.decode("utf-8", "surrogateescape")


def _unindexable(warnings: WarningLog, offset: int, message_id: str) -> None:
    warnings.add(
        f"unindexable:{offset}",
        f"The message at byte {offset} has the id {message_id}, beyond 64 bits: no "
        "database can index it, so it is preserved only verbatim in the captured "
        "result.json, at that offset.",
    )


def _minimal(
    warnings: WarningLog,
    value: dict[str, Any],
    raw: str,
    offset: int,
    repaired: int,
    exc: Exception,
) -> MessageRecord:
    """A message whose fields have unexpected types: keep it whole, normalise nothing."""
    warnings.add(
        f"odd:{type(exc).__name__}",
        f"A message at byte {offset} has fields of unexpected types ({exc}); "
        "it was kept verbatim without normalisation.",
    )
    kind = value.get("type")
    return MessageRecord(
        message_id=value["id"],
        kind=fit(kind, KIND_MAX) or "unknown" if isinstance(kind, str) else "unknown",
        date_unix=None,
        date_raw=None,
        raw=raw,
        raw_offset=offset,
        repaired_escapes=repaired,
    )
