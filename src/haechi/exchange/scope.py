"""What a partner may fetch: banks (by id, named as they were when shared), optionally only
items carrying some labels, and which hash kinds.

The scope's digest is part of every cursor: when a partner's scope changes, its next
fetch starts over from the first change (``reset``), so a bank added to the scope arrives
whole and a bank taken out of it is withdrawn at the partner (the receiver sweeps what the
restart did not send again).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson

from haechi.exchange.errors import OutOfScope
from haechi.i18n import t_
from haechi.match.formats.base import MATCHABLE
from haechi.store.custody import canonical

DEFAULT_KINDS = MATCHABLE  # pdq, md5, sha256, vpdq: the hashes banks hold
MAX_LABELS = 50


@dataclass(frozen=True)
class Scope:
    banks: tuple[tuple[int, str], ...]  # (bank id, its name when shared)
    labels: tuple[str, ...] = ()  # empty: every item of the banks
    kinds: tuple[str, ...] = DEFAULT_KINDS

    @property
    def bank_ids(self) -> list[int]:
        return [b for b, _ in self.banks]

    def digest(self) -> str:
        body = {
            "banks": sorted(self.bank_ids),
            "labels": sorted(self.labels),
            "kinds": sorted(self.kinds),
        }
        return hashlib.sha256(canonical(body)).hexdigest()

    def admits(self, labels: Iterable[str]) -> bool:
        return not self.labels or bool(set(self.labels) & set(labels))

    def to_json(self) -> str:
        return orjson.dumps(
            {"banks": [list(b) for b in self.banks], "labels": list(self.labels),
             "kinds": list(self.kinds)}
        ).decode()  # fmt: skip

    @classmethod
    def from_json(cls, text: str) -> Scope:
        data = orjson.loads(text)
        return cls(
            tuple((int(b), str(n)) for b, n in data["banks"]),
            tuple(data.get("labels") or ()),
            tuple(data.get("kinds") or DEFAULT_KINDS),
        )

    def describe(self) -> str:
        banks = ", ".join(repr(n) for _, n in self.banks)
        labels = f"; labels {', '.join(self.labels)}" if self.labels else ""
        return f"banks {banks}{labels}; hashes {', '.join(self.kinds)}"


def make_scope(
    banks: Sequence[tuple[int, str]], labels: Sequence[str] = (), kinds: Sequence[str] = ()
) -> Scope:
    """A checked scope: at least one bank, known hash kinds, a bounded label list."""
    if not banks:
        raise OutOfScope(t_("Share at least one bank with a partner."))
    wanted = [k.strip().lower() for k in kinds] or list(DEFAULT_KINDS)
    unknown = [k for k in wanted if k not in DEFAULT_KINDS]
    if unknown:
        raise OutOfScope(
            t_(
                "{unknown!r} is not a hash kind banks hold; choose from {default_kinds}.",
                unknown=unknown[0],
                default_kinds=", ".join(DEFAULT_KINDS),
            )
        )
    clean = [lb.strip() for lb in labels if lb.strip()]
    if len(clean) > MAX_LABELS or any(len(lb) > 64 for lb in clean):
        raise OutOfScope(
            t_(
                "A scope names at most {max_labels} labels of 64 characters each.",
                max_labels=MAX_LABELS,
            )
        )
    ids = dict(banks)
    return Scope(
        tuple(sorted(ids.items())),
        tuple(sorted(dict.fromkeys(clean))),
        tuple(k for k in DEFAULT_KINDS if k in wanted),
    )


def narrow(scope: Scope, kinds: Sequence[str] = (), labels: Sequence[str] = ()) -> Scope:
    """The scope one fetch asks for: a subset of the partner's hash kinds and labels, or a
    refusal naming what is outside it. Its digest goes into the cursor, so changing the
    filters between fetches starts over rather than silently skipping items."""
    asked_kinds = [k.strip().lower() for k in kinds if k.strip()]
    outside = [k for k in asked_kinds if k not in scope.kinds]
    if outside:
        raise OutOfScope(
            t_(
                "Hash kind {outside!r} is outside this partner's scope ({kinds}).",
                outside=outside[0][:32],
                kinds=", ".join(scope.kinds),
            )
        )
    asked_labels = [lb.strip() for lb in labels if lb.strip()][:MAX_LABELS]
    if scope.labels:
        outside = [lb for lb in asked_labels if lb not in scope.labels]
        if outside:
            raise OutOfScope(
                t_(
                    "Label {outside!r} is outside this partner's scope ({labels}).",
                    outside=outside[0][:64],
                    labels=", ".join(scope.labels),
                )
            )
    return Scope(
        scope.banks,
        tuple(sorted(set(asked_labels))) or scope.labels,
        tuple(k for k in scope.kinds if k in asked_kinds) if asked_kinds else scope.kinds,
    )
