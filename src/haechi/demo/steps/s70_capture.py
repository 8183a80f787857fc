"""Public page capture: a local stand-in for a t.me/s channel (benign posts) is captured as
WARC/WACZ, signed with the data directory's key, timestamped by a local OpenSSL timestamp
authority started here, and the WACZ, its signature and its timestamp are verified."""

from __future__ import annotations

import shutil
from pathlib import Path

from haechi.demo.steps import DemoContext

ORDER = 70
TITLE = "capture"


def run(ctx: DemoContext) -> None:
    from haechi.collect.web_capture.local_tsa import LocalTsa
    from haechi.collect.web_capture.service import CaptureOptions, capture
    from haechi.collect.web_capture.verify import verify_wacz
    from haechi.demo.capture_site import CHANNEL, CaptureSite

    if shutil.which("openssl") is None:
        ctx.out.print(
            "[yellow]skipped:[/] the openssl command is needed for the timestamp authority"
        )
        return
    out = ctx.home / "captures"
    with CaptureSite() as site, LocalTsa(ctx.home / "demo-tsa") as tsa:
        url = site.url(f"/s/{CHANNEL}")
        opts = CaptureOptions(tsa_url=tsa.url, tsa_ca=tsa.ca_path, out_dir=out)
        r = capture(ctx.app, url, opts)
    ctx.out.print(
        f"captured {url}: {r.posts} posts ({r.messages_new} new messages), "
        f"{r.media_fetched} media files, source {r.source_id}"
    )
    ctx.out.print(f"WACZ SHA-256 {r.wacz_sha256} ({r.wacz_size:,} bytes)")
    ctx.out.print(
        f"signed: Ed25519 over datapackage.json {(r.datapackage_sha256 or '')[:16]}… "
        f"by key {r.key_id}"
    )
    if r.timestamp:
        ctx.out.print(
            f"RFC 3161 timestamp {r.timestamp['gen_time']} from the local TSA: {r.timestamp_check}"
        )
    for w in r.warnings:
        ctx.out.print(f"[yellow]warning:[/] {w}", highlight=False)
    wacz = next(p for p in map(Path, r.files_written) if p.suffix == ".wacz")
    check = verify_wacz(wacz, trusted=ctx.app.verifier(), token=None, tsa_ca=tsa.ca_path)
    for name, state in check.checks.items():
        mark = "[green]✓[/]" if state == "ok" else "[red]✗[/]"
        ctx.out.print(f"  {mark} {name}: {state}", highlight=False)
    ctx.ok &= check.ok and r.timestamp is not None
    ctx.facts["capture_wacz"] = str(wacz)
    ctx.out.print(
        f"Try: haechi capture verify {wacz} --home {ctx.home} --tsa-ca {tsa.ca_path}   ·   "
        "open the .wacz in ReplayWeb.page"
    )
