"""Cooperation with a partner agency: it runs a haechi of its own (a second data directory,
served on a loopback port), banks a picture a victim reported to it — the café cat, a
benign sample photo — and shares that bank with us. We subscribe, sync, and find the
picture among our stored files at once; then the victim withdraws her consent there, and
our next sync removes the hashes here too (the matches already recorded stay)."""

from __future__ import annotations

from haechi.demo.steps import DemoContext

ORDER = 65
TITLE = "exchange"
PARTNER_BANK = "reported to the partner (fictional)"
SUBSCRIPTION = "demo-partner"


def _partner_app(ctx: DemoContext) -> object:
    from haechi.app import init_home

    return init_home(ctx.home / "partner-agency")


def _reported(ctx: DemoContext) -> object:
    """Her copy as the partner received it: 400 px wide, re-compressed. Benign sample."""
    from haechi.demo.images import fit, sample

    path = ctx.home / "partner-reported.jpg"
    fit(sample("chelsea"), 400).save(path, "JPEG", quality=80)
    return path


def run(ctx: DemoContext) -> None:
    from pathlib import Path

    from haechi.app import App
    from haechi.exchange.loopback import serve_locally
    from haechi.exchange.partners import add_partner, list_partners, new_token
    from haechi.exchange.subscriptions import (
        add_haechi,
        get_subscription,
        list_subscriptions,
        set_token,
        set_url,
    )
    from haechi.exchange.sync import sync
    from haechi.match.bank_sources import add_files
    from haechi.match.banks import bank_items, ensure_bank, remove_items
    from haechi.match.lookup import list_matches
    from haechi.store.keys import public_pem

    app, out = ctx.app, ctx.out
    partner = _partner_app(ctx)
    assert isinstance(partner, App)
    try:
        ensure_bank(partner, PARTNER_BANK, origin="partner support centre, consent recorded",
                    labels=["reported"])  # fmt: skip
        add_files(partner, PARTNER_BANK, [Path(str(_reported(ctx)))],
                  notes="hashed and forgotten")  # fmt: skip
        if "demo-unit" in {p.name for p in list_partners(partner)}:
            token, _ = new_token(partner, "demo-unit")
        else:
            token, _ = add_partner(partner, "demo-unit", banks=[PARTNER_BANK],
                                   description="the demo's own unit")  # fmt: skip
        out.print(f"partner agency ({partner.settings.home.name}, key {partner.signer.key_id}) "
                  f"shares {PARTNER_BANK!r} with us", highlight=False)  # fmt: skip
        with serve_locally(partner) as url:
            pem = public_pem(partner.signer.public)
            if SUBSCRIPTION in {s.name for s in list_subscriptions(app)}:
                set_token(app, SUBSCRIPTION, token)  # a demo run again: new token, new port
                set_url(app, SUBSCRIPTION, url)
            else:
                add_haechi(app, SUBSCRIPTION, url=url, token=token, public_key_pem=pem)
            bank = get_subscription(app, SUBSCRIPTION).bank_name
            [first] = sync(app, SUBSCRIPTION)
            hits = list_matches(app, bank=bank, limit=None)
            out.print(f"sync 1: {first.line()}", highlight=False)
            for h in hits[:4]:
                out.print(f"  ✓ stored file {h.blob_sha256[:12]}… matches the partner's item "
                          f"(PDQ distance {h.distance})", highlight=False)  # fmt: skip
            reported = [i for i in bank_items(partner, PARTNER_BANK)
                        if i.origin == "file:partner-reported.jpg"]  # fmt: skip
            remove_items(partner, PARTNER_BANK, [i.id for i in reported],
                         reason="the victim withdrew her consent")  # fmt: skip
            [second] = sync(app, SUBSCRIPTION)
            left = bank_items(app, bank)
            out.print(f"sync 2 (withdrawn at the partner): {second.line()}; "
                      f"{len(left)} item(s) left in {bank!r}; the {len(hits)} recorded "
                      "match(es) stay in the custody log", highlight=False)  # fmt: skip
    finally:
        partner.close()
    ctx.facts["exchange"] = {"matches": len(hits), "withdrawn": second.withdrawn}
    ctx.ok &= first.error is None and second.error is None
    ctx.ok &= bool(hits) and second.withdrawn >= 1 and not left
    out.print(f"Try: haechi exchange list --home {ctx.home}   ·   haechi exchange partner "
              f"list --home {ctx.home / 'partner-agency'}", highlight=False)  # fmt: skip
