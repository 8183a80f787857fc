"""Subscriptions through python-threatexchange: any ``SignalExchangeAPI`` it ships.

The collaboration config is the one threatexchange itself stores (``threatexchange config
collab print NAME``), checked against the API's own config class when it is added. The
checkpoint is the API's own, kept as JSON on the subscription; a stale one (or none, for
APIs that always send everything) starts a restart that withdraws afterwards whatever it
did not send again.

A delta is converted and checked whole (every hash through haechi's own validation)
before anything is written: a malformed hash refuses the delta. It is then written in
pages of 5,000 items, one transaction each; the checkpoint moves only with the last one,
so an interrupted delta is fetched and applied again (unchanged items are recognised).

Only the file and sample APIs can run here (no network); NCMEC, StopNCII, ThreatExchange
and Tech Against Terrorism configs and credentials are checked the same way and run
wherever the network reaches them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Any

from haechi.domain import UsageError
from haechi.exchange.errors import ExchangeError, PageRefused
from haechi.exchange.importer import Batch, Incoming
from haechi.exchange.page import MAX_ITEMS
from haechi.exchange.subscriptions import SubscriptionInfo, credentials_of, get_subscription
from haechi.i18n import N_, t_
from haechi.match.formats.base import MATCHABLE, ParsedSignal, normalize
from haechi.match.formats.te import TE_TO_KIND

MAX_KEY = 160


NOT_INSTALLED = N_(
    "python-threatexchange is not installed: pip install 'haechi[exchange]' to subscribe "
    "through its APIs."
)


def apis() -> dict[str, Any]:
    """The SignalExchangeAPIs haechi subscribes through, by threatexchange name."""
    try:
        import threatexchange  # noqa: F401
    except ImportError:
        raise UsageError(t_(NOT_INSTALLED)) from None
    from threatexchange.exchanges.impl.fb_threatexchange_api import (
        FBThreatExchangeSignalExchangeAPI,
    )
    from threatexchange.exchanges.impl.file_api import LocalFileSignalExchangeAPI
    from threatexchange.exchanges.impl.ncmec_api import NCMECSignalExchangeAPI
    from threatexchange.exchanges.impl.static_sample import StaticSampleSignalExchangeAPI
    from threatexchange.exchanges.impl.stop_ncii_api import StopNCIISignalExchangeAPI
    from threatexchange.exchanges.impl.techagainstterrorism_api import TATSignalExchangeAPI

    classes = (
        LocalFileSignalExchangeAPI, StaticSampleSignalExchangeAPI, NCMECSignalExchangeAPI,
        StopNCIISignalExchangeAPI, FBThreatExchangeSignalExchangeAPI, TATSignalExchangeAPI,
    )  # fmt: skip
    return {c.get_name(): c for c in classes}


def signal_types() -> list[Any]:
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal
    from threatexchange.signal_type.sha256 import VideoSHA256Signal

    found: list[Any] = [PdqSignal, VideoMD5Signal, VideoSHA256Signal]
    try:
        from threatexchange.extensions.vpdq.vpdq_signal import VPDQSignal

        found.append(VPDQSignal)
    except ImportError:  # the vpdq extension needs the vpdq package
        pass
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(type(value).__name__)


def dump(obj: Any) -> str:
    """A threatexchange dataclass (config, checkpoint) as JSON text."""
    from threatexchange.utils.dataclass_json import dataclass_dump_dict

    return json.dumps(dataclass_dump_dict(obj), sort_keys=True, default=_plain)


def _load(data: dict[str, Any], cls: Any) -> Any:
    from threatexchange.utils.dataclass_json import dataclass_load_dict

    return dataclass_load_dict(data, cls)


def _credentials(api_cls: Any, text: str | None) -> Any:
    from threatexchange.exchanges.auth import SignalExchangeWithAuth

    if not text or not issubclass(api_cls, SignalExchangeWithAuth):
        return None
    cred_cls = api_cls.get_credential_cls()
    try:
        creds = cred_cls._from_str(text)  # threatexchange's own parser of this format
    except (ValueError, TypeError) as exc:
        raise UsageError(
            t_(
                "The {api} credentials are not valid ({exc}).",
                api=api_cls.get_name(),
                exc=exc,
            )
        ) from None
    if creds is None or not creds._are_valid():
        raise UsageError(t_("The {api} credentials are incomplete.", api=api_cls.get_name()))
    return creds


def check_config(config: dict[str, Any], credentials: str | None) -> tuple[str, dict[str, Any]]:
    """(API name, the config as threatexchange writes it) or a sentence saying what is wrong."""
    if not isinstance(config, dict):
        raise UsageError(t_("A threatexchange collaboration config is a JSON object."))
    known = apis()
    api_cls = known.get(str(config.get("api")))
    if api_cls is None:
        raise UsageError(
            t_(
                "Unknown threatexchange API {api!r}; choose one of: {known}.",
                api=str(config.get("api"))[:40],
                known=", ".join(sorted(known)),
            )
        )
    try:
        collab = _load(config, api_cls.get_config_cls())
    except Exception as exc:  # dacite names the missing or mistyped field
        raise UsageError(
            t_(
                "The {api} collaboration config is not valid: {exc}.",
                api=api_cls.get_name(),
                exc=exc,
            )
        ) from None
    if api_cls.get_name() == "local_file":
        path = Path(collab.filename)
        if not path.is_absolute() or not path.is_file():
            raise UsageError(
                t_(
                    "The signal file {filename!r} is not an absolute file path.",
                    filename=collab.filename,
                )
            )
    _credentials(api_cls, credentials)
    return api_cls.get_name(), json.loads(dump(collab))


def remote_key(key: Any) -> str:
    text = f"{key[0]}:{key[1]}" if isinstance(key, tuple) else str(key)
    if len(text) <= MAX_KEY:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _labels(metadata: Any) -> list[str]:
    try:
        opinions = metadata.get_as_opinions()
    except Exception:  # an API without opinions: no labels
        return []
    return sorted({str(t)[:64] for o in opinions for t in (o.tags or ())})[:50]


def convert(
    api_cls: Any, collab: Any, updates: dict[Any, Any], types: list[Any]
) -> list[tuple[str, Incoming | str]]:
    """A delta as additions and withdrawals, every hash checked; a bad one refuses it all."""
    ops: list[tuple[str, Incoming | str]] = []
    for key, value in updates.items():
        rkey = remote_key(key)
        if value is None:
            ops.append(("remove", rkey))
            continue
        _check_key(api_cls, key, rkey)
        converted = api_cls.naive_convert_to_signal_type(types, collab, {key: value})
        signals: list[ParsedSignal] = []
        labels: set[str] = set()
        for s_type, by_signal in converted.items():
            kind = TE_TO_KIND.get(s_type.get_name())
            for signal, metadata in by_signal.items():
                if kind not in MATCHABLE:
                    continue
                try:
                    signals.append(normalize(kind, signal))
                except ValueError as exc:
                    raise PageRefused(
                        t_(
                            "The {api} delta has a malformed {kind} hash for "
                            "{rkey!r} ({exc}); nothing of it was imported.",
                            api=api_cls.get_name(),
                            kind=kind,
                            rkey=rkey[:60],
                            exc=exc,
                        )
                    ) from None
                labels.update(_labels(metadata))
        if signals:
            unique = {(s.kind, s.value): s for s in signals}
            ops.append(("add", Incoming(rkey, tuple(unique.values()), tuple(sorted(labels)))))
        else:
            ops.append(("remove", rkey))  # nothing haechi can match: as good as withdrawn
    return ops


def _digest(ops: list[tuple[str, Incoming | str]]) -> str:
    """SHA-256 of a converted delta (what its custody events cite)."""
    body = [
        [op, what if isinstance(what, str)
         else [what.key, sorted(f"{s.kind}:{s.value}" for s in what.signals)]]
        for op, what in ops
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(body).encode()).hexdigest()


def _check_key(api_cls: Any, key: Any, rkey: str) -> None:
    """Keys of the simple APIs are (signal type, signal): threatexchange's own conversion
    drops a malformed one with a warning; here it refuses the delta instead."""
    if not (isinstance(key, tuple) and len(key) == 2 and key[0] in TE_TO_KIND):
        return
    try:
        normalize(TE_TO_KIND[key[0]], str(key[1]))
    except ValueError as exc:
        raise PageRefused(
            t_(
                "The {api} delta has a malformed {key} hash {rkey!r} "
                "({exc}); nothing of it was imported.",
                api=api_cls.get_name(),
                key=key[0],
                rkey=rkey[:80],
                exc=exc,
            )
        ) from None


def _pages(ops: list[tuple[str, Incoming | str]]) -> Iterator[list[tuple[str, Incoming | str]]]:
    for start in range(0, max(len(ops), 1), MAX_ITEMS):
        yield ops[start : start + MAX_ITEMS]


def sync_threatexchange(
    app: Any, sub: SubscriptionInfo, report: Any, max_pages: int,
    on_page: Callable[..., None] | None,
) -> None:  # fmt: skip
    from haechi.exchange.sync import import_batch, sweep

    api_cls = apis()[str(sub.tx_api)]
    collab = _load(sub.tx_config or {}, api_cls.get_config_cls())
    creds = _credentials(api_cls, credentials_of(app, sub))
    try:
        api = api_cls.for_collab(collab, creds) if creds is not None else api_cls.for_collab(collab)
    except Exception as exc:  # missing credentials and the like, in threatexchange's words
        raise ExchangeError(
            t_("threatexchange cannot open {name!r}: {exc}", name=sub.name, exc=_why(exc))
        ) from None
    cp_cls = api_cls.get_checkpoint_cls()
    checkpoint = _load(json.loads(sub.checkpoint_json), cp_cls) if sub.checkpoint_json else None
    restart = checkpoint is not None and checkpoint.is_stale()
    epoch = sub.epoch + 1 if restart else sub.epoch
    types = signal_types()
    deltas = api.fetch_iter(types, None if restart else checkpoint)
    for number in range(max_pages):
        try:
            delta = next(deltas, None)
        except Exception as exc:  # the API failed (network, auth, a bad file)
            raise ExchangeError(
                t_("threatexchange could not fetch {name!r}: {exc}", name=sub.name, exc=_why(exc))
            ) from None
        if delta is None:
            break
        ops = convert(api_cls, collab, dict(delta.updates), types)
        digest = _digest(ops)
        pages = list(_pages(ops))
        for index, part in enumerate(pages):
            sub = get_subscription(app, sub.name)
            last = index == len(pages) - 1
            state: dict[str, Any] = {"epoch": epoch, "resync": sub.resync or restart}
            if last:
                state["checkpoint_json"] = dump(delta.checkpoint)
            source = {"api": api_cls.get_name(), "collab": collab.name, "delta": number,
                      "delta_sha256": digest, "part": index, "items": len(part)}  # fmt: skip
            expect = {"checkpoint_json": sub.checkpoint_json, "epoch": sub.epoch}
            import_batch(app, sub, Batch(part, source, expect, state), epoch, report)
        if on_page is not None:
            on_page(report)
    sub = get_subscription(app, sub.name)
    if sub.resync:
        sweep(app, sub, epoch, report, {}, {"checkpoint_json": sub.checkpoint_json})


def _why(exc: Exception) -> str:
    pretty = getattr(exc, "pretty_str", None)
    text = pretty() if callable(pretty) else str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:300]
