"""Syncing subscriptions: fetch page after page, check each, import each in one
transaction, match the new hashes, and keep the signed pages as received.

A run stops at the first refusal (a page that fails a check, a partner that refuses us):
what was imported before stays, the refused page leaves nothing, and the next run
starts from where the last good page left the subscription. Each run is a row of
``exchange_syncs``; its error, if any, is also kept on the subscription.

Received envelopes are kept in ``HOME/exchange/received/sub-<id>/`` (named by change
range and payload SHA-256), so the partner's signature over every imported hash can be
checked again later, offline (``haechi exchange check-page``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

from haechi.app import App
from haechi.domain import HaechiError
from haechi.exchange import wire
from haechi.exchange.errors import PageRefused
from haechi.exchange.importer import Applied, Batch, Incoming, apply, stale_keys
from haechi.exchange.page import MAX_ITEMS, Page
from haechi.exchange.subscriptions import (
    HAECHI,
    SubscriptionInfo,
    get_subscription,
    list_subscriptions,
    public_key_of,
    token_of,
)
from haechi.i18n import t_
from haechi.store.custody import utc_now
from haechi.store.tables.exchange import ExchangeSubscription, ExchangeSync

MAX_PAGES = 100_000  # a run ends after this many pages even if the partner says "more"


@dataclass
class SyncReport:
    subscription: str
    pages: int = 0
    added: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    swept: int = 0  # withdrawn because a restart did not send them again
    matches: int = 0
    position: int | None = None
    error: str | None = None
    seconds: float = 0.0
    match: bool = True  # match new hashes page by page (else: ``haechi match --all`` later)

    def take(self, applied: Applied) -> None:
        self.added += applied.added
        self.withdrawn += applied.withdrawn
        self.unchanged += applied.unchanged

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        gone = self.withdrawn + self.swept
        head = (f"{self.subscription}: {self.pages} page(s), {self.added:,} added, "
                f"{gone:,} withdrawn, {self.matches:,} new match(es)")  # fmt: skip
        return head + (f" — stopped: {self.error}" if self.error else "")


def received_dir(app: App, sub: SubscriptionInfo) -> Path:
    folder = app.settings.home / "exchange" / "received" / f"sub-{sub.id}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _keep(app: App, sub: SubscriptionInfo, page: Page, raw: bytes) -> str:
    path = received_dir(app, sub) / f"{page.start:012d}-{page.end:012d}-{page.digest[:16]}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
        fh.flush()
        os.fsync(fh.fileno())
    return path.name


def sync(
    app: App, name: str | None = None, *, max_pages: int = MAX_PAGES, on_page: Callable[..., None]
    | None = None, match: bool = True,
) -> list[SyncReport]:  # fmt: skip
    """Sync one subscription (``name``) or every enabled one. ``match=False`` leaves the new
    hashes for ``haechi match --all`` (a first sync of millions of hashes)."""
    subs = [get_subscription(app, name)] if name else [
        s for s in list_subscriptions(app) if s.enabled
    ]  # fmt: skip
    return [sync_one(app, s, max_pages=max_pages, on_page=on_page, match=match) for s in subs]


def sync_one(
    app: App,
    sub: SubscriptionInfo,
    *,
    max_pages: int = MAX_PAGES,
    on_page: Callable[..., None] | None = None,
    match: bool = True,
) -> SyncReport:
    report = SyncReport(sub.name, match=match)
    started, clock = utc_now(), time.monotonic()
    with app.db.begin() as conn:
        run_id = conn.execute(
            insert(ExchangeSync)
            .values(subscription_id=sub.id, started_at=started, pages=0, added=0, withdrawn=0,
                    matches=0)
            .returning(ExchangeSync.id)
        ).scalar_one()  # fmt: skip
    try:
        if sub.kind == HAECHI:
            _sync_haechi(app, sub, report, max_pages, on_page)
        else:
            from haechi.exchange.txsource import sync_threatexchange

            sync_threatexchange(app, sub, report, max_pages, on_page)
    except HaechiError as exc:
        report.error = str(exc)
    report.seconds = round(time.monotonic() - clock, 3)
    with app.db.begin() as conn:
        conn.execute(
            update(ExchangeSync)
            .where(ExchangeSync.id == run_id)
            .values(finished_at=utc_now(), pages=report.pages, added=report.added,
                    withdrawn=report.withdrawn + report.swept, matches=report.matches,
                    error=report.error)
        )  # fmt: skip
        conn.execute(
            update(ExchangeSubscription)
            .where(ExchangeSubscription.id == sub.id)
            .values(last_sync_at=started, last_error=report.error)
        )
    return report


def import_batch(
    app: App, sub: SubscriptionInfo, batch: Batch, epoch: int, report: SyncReport
) -> Applied:
    """Apply one batch, then match its new hashes against the store (custody events)."""
    applied = apply(app, sub, batch, epoch=epoch)
    report.pages += 1
    report.take(applied)
    if applied.new_signal_ids and report.match:
        from haechi.match.matching import hunt_bank_signals

        report.matches += hunt_bank_signals(app, applied.new_signal_ids)
    return applied


def sweep(app: App, sub: SubscriptionInfo, epoch: int, report: SyncReport, state: dict[str, Any],
          expect: dict[str, Any]) -> None:  # fmt: skip
    """After a restart from the first change: withdraw what it did not send again."""
    while True:
        keys = stale_keys(app, sub, epoch, MAX_ITEMS)
        last = len(keys) < MAX_ITEMS
        batch = Batch([("remove", k) for k in keys], {"sweep": True, "epoch": epoch},
                      expect, {**state, "resync": not last})  # fmt: skip
        applied = apply(app, sub, batch, epoch=epoch)
        report.swept += applied.withdrawn
        expect = {**expect, "resync": not last}
        if last:
            return


def _sync_haechi(
    app: App,
    sub: SubscriptionInfo,
    report: SyncReport,
    max_pages: int,
    on_page: Callable[..., None] | None,
) -> None:
    token, public = token_of(app, sub), public_key_of(app, sub)
    url = sub.url or ""
    for _ in range(max_pages):
        sub = get_subscription(app, sub.name)
        page, raw = wire.fetch_page(url, token, public, after=sub.cursor,
                                    position=sub.position, limit=MAX_ITEMS)  # fmt: skip
        epoch = sub.epoch + 1 if page.reset else sub.epoch
        resync = sub.resync or page.reset
        state = {"cursor": page.next, "position": page.end, "epoch": epoch, "resync": resync}
        expect = {"cursor": sub.cursor, "position": sub.position}
        if page.items or page.reset:
            kept = _keep(app, sub, page, raw)
            ops: list[tuple[str, Incoming | str]] = [
                ("add", Incoming(str(i.item), i.signals, i.labels, i.added_at, i.change))
                if i.op == "add" else ("remove", str(i.item))
                for i in page.items
            ]  # fmt: skip
            import_batch(app, sub, Batch(ops, {**page.summary(), "file": kept}, expect, state),
                         epoch, report)  # fmt: skip
        else:
            advance(app, sub, expect, state)  # nothing imported: no custody event
        report.position = page.end
        if on_page is not None:
            on_page(report)
        if resync and not page.more:
            sweep(app, sub, epoch, report, {}, {"cursor": page.next, "position": page.end})
        if not page.more:
            return


def advance(app: App, sub: SubscriptionInfo, expect: dict[str, Any], state: dict[str, Any]) -> None:
    """Move the subscription on past a page that carried nothing for us."""
    with app.db.begin() as conn:
        done = conn.execute(
            update(ExchangeSubscription)
            .where(ExchangeSubscription.id == sub.id,
                   *(getattr(ExchangeSubscription, k) == v for k, v in expect.items()))
            .values(**state, last_ok_at=utc_now())
        ).rowcount  # fmt: skip
    if not done:
        raise PageRefused(
            t_(
                "Subscription {name!r} moved on while this page was fetched "
                "(another sync ran); the next sync continues.",
                name=sub.name,
            )
        )
