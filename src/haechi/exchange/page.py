"""One page of a publisher's change feed: what it holds, and the checks a receiver makes
before anything of it is imported.

A page (the signed payload of an envelope) names the publisher's key, the *audience* (the
first 32 hex digits of the SHA-256 of the partner's token: a page fetched by one partner
cannot be passed off to another), the cursor it answers (``after``), the next cursor, and
the range of change ids it covers (``from`` exclusive, ``to`` inclusive). A receiver
accepts a page only if ``after`` is the cursor it sent and ``from`` is where it stands,
so a replayed, reordered or spliced page is refused. ``reset`` says the publisher started
over from the first change (the partner's scope changed).

Items are hashes, their kind, labels and times — never a bank name, an external id, an
origin or notes. A vPDQ hash travels as python-threatexchange's signal string.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from haechi.analyze.hashes.vpdq import te_signal_string
from haechi.exchange.errors import ExchangeError, PageRefused
from haechi.i18n import t_
from haechi.match.formats.base import MATCHABLE, PDQ, VPDQ, ParsedSignal, normalize

PAGE = "haechi-exchange-page/1"
MAX_ITEMS = 5000  # per page, both ends
MAX_SIGNALS = 16  # per item
MAX_LABELS = 50
CURSOR_RE = re.compile(r"^(\d{1,15})\.([0-9a-f]{12})$")


def audience(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def make_cursor(position: int, scope_digest: str) -> str:
    return f"{position}.{scope_digest[:12]}"


def read_cursor(cursor: str | None) -> tuple[int, str | None]:
    """(position, scope digest prefix); an empty cursor is the start of the feed."""
    if not cursor:
        return 0, None
    m = CURSOR_RE.match(cursor)
    if m is None:
        raise ExchangeError(
            t_(
                "The cursor is not one this server gave out: send the 'next' "
                "cursor of the last page, or none to start from the "
                "beginning."
            )
        )
    return int(m.group(1)), m.group(2)


def wire_signal(
    kind: str, value: str, quality: int | None, data: dict[str, Any] | None
) -> dict[str, Any]:
    """A bank hash as it travels: hex, or the vPDQ signal string rebuilt from its frames."""
    if kind == VPDQ:
        frames = [(int(n), int(q), str(h), float(t)) for n, q, h, t in (data or {})["frames"]]
        return {"kind": VPDQ, "value": te_signal_string(frames)}
    out: dict[str, Any] = {"kind": kind, "value": value}
    if kind == PDQ and quality is not None:
        out["quality"] = quality
    return out


@dataclass(frozen=True)
class RemoteItem:
    change: int
    op: str  # add / remove
    item: int  # the change id of the item's addition: its key at the publisher
    labels: tuple[str, ...] = ()
    added_at: str | None = None
    signals: tuple[ParsedSignal, ...] = ()


@dataclass(frozen=True)
class Page:
    publisher: str
    partner: str
    issued_at: str
    after: str
    next: str
    start: int  # "from": the change the page follows
    end: int  # "to": the last change it covers
    reset: bool
    more: bool
    items: tuple[RemoteItem, ...]
    digest: str  # SHA-256 of the signed payload

    def summary(self) -> dict[str, Any]:
        adds = sum(1 for i in self.items if i.op == "add")
        return {"from": self.start, "to": self.end, "adds": adds,
                "removes": len(self.items) - adds, "reset": self.reset,
                "payload_sha256": self.digest, "publisher_key": self.publisher}  # fmt: skip


def _refuse(why: str) -> PageRefused:
    return PageRefused(f"The page is refused: {why}; nothing was imported.")


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**15:
        raise _refuse(f"{what} is not a change number")
    return value


def _text(value: Any, what: str, limit: int = 64) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise _refuse(f"{what} is not a short text")
    return value


def _signals(raw: Any, change: int) -> tuple[ParsedSignal, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_SIGNALS:
        raise _refuse(f"change {change} has no hash list (1-{MAX_SIGNALS} hashes)")
    out = []
    for s in raw:
        if not isinstance(s, dict) or set(s) - {"kind", "value", "quality"}:
            raise _refuse(f"change {change} has a hash that is not {{kind, value}}")
        kind, value = s.get("kind"), s.get("value")
        quality = s.get("quality")
        if kind not in MATCHABLE or not isinstance(value, str) or len(value) > 1 << 20:
            raise _refuse(f"change {change} has a hash of unknown kind {str(kind)[:32]!r}")
        if quality is not None and (not isinstance(quality, int) or isinstance(quality, bool)):
            raise _refuse(f"change {change} has a PDQ quality that is not a number")
        try:
            out.append(normalize(kind, value, quality))
        except (ValueError, TypeError) as exc:
            raise _refuse(f"change {change} has a malformed {kind} hash ({exc})") from None
    return tuple(out)


def _item(raw: Any, last: int, end: int) -> RemoteItem:
    if not isinstance(raw, dict):
        raise _refuse("an item is not an object")
    change = _int(raw.get("change"), "an item's change")
    if not last < change <= end:
        raise _refuse(f"change {change} is out of order or outside the page's range")
    op, item = raw.get("op"), _int(raw.get("item"), f"change {change}'s item")
    if op == "remove":
        if set(raw) != {"change", "op", "item"} or item >= change:
            raise _refuse(f"change {change} is a withdrawal of an item that came later")
        return RemoteItem(change, op, item)
    if op != "add" or item != change or set(raw) != {"change", "op", "item", "labels",
                                                      "added_at", "signals"}:  # fmt: skip
        raise _refuse(f"change {change} is neither an addition nor a withdrawal")
    labels = raw.get("labels")
    if not isinstance(labels, list) or len(labels) > MAX_LABELS:
        raise _refuse(f"change {change} has no label list")
    return RemoteItem(
        change, op, item, tuple(_text(lb, f"change {change}'s label") for lb in labels),
        _text(raw.get("added_at"), f"change {change}'s time", 40),
        _signals(raw.get("signals"), change),
    )  # fmt: skip


def validate(
    payload: dict[str, Any], *, token: str, after: str | None, position: int, digest: str
) -> Page:
    """Check a verified payload against what the receiver asked and where it stands."""
    fields = {"format", "publisher", "audience", "partner", "issued_at", "after", "next",
              "from", "to", "reset", "more", "items"}  # fmt: skip
    if set(payload) != fields or payload["format"] != PAGE:
        raise _refuse(f"it is not a {PAGE} page")
    if payload["audience"] != audience(token):
        raise _refuse("it was fetched with another partner's token")
    if payload["after"] != (after or ""):
        raise _refuse("it answers another cursor than the one sent (a replayed or reordered page)")
    start, end = _int(payload["from"], "'from'"), _int(payload["to"], "'to'")
    reset, more = payload["reset"], payload["more"]
    if not isinstance(reset, bool) or not isinstance(more, bool):
        raise _refuse("'reset' and 'more' are not true or false")
    if start != (0 if reset else position) or end < start:
        raise _refuse(
            f"it covers changes {start}-{end} but this server stands at change {position} "
            "(a replayed or reordered page)"
        )
    nxt = _text(payload["next"], "'next'", 40)
    if not CURSOR_RE.match(nxt) or int(nxt.split(".")[0]) != end:
        raise _refuse("its next cursor does not follow its range")
    try:
        datetime.fromisoformat(
            _text(payload["issued_at"], "'issued_at'", 40).replace("Z", "+00:00")
        )
    except ValueError:
        raise _refuse("its time is not ISO 8601") from None
    raw_items = payload["items"]
    if not isinstance(raw_items, list) or len(raw_items) > MAX_ITEMS:
        raise _refuse(f"it holds more than {MAX_ITEMS} items (a huge page)")
    items, last = [], start
    for raw in raw_items:
        item = _item(raw, last, end)
        items.append(item)
        last = item.change
    return Page(
        _text(payload["publisher"], "'publisher'"), _text(payload["partner"], "'partner'"),
        payload["issued_at"], payload["after"], nxt, start, end, reset, more, tuple(items),
        digest,
    )  # fmt: skip
