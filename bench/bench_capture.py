#!/usr/bin/env python3
"""Benchmark: WACZ write and verify speed (MB/s, pages/s) against baselines in the same run.

Input, made here: ``--pages`` t.me-like preview pages (the demo site's channel page, ~20 KB
each, every one a little different) and ``--media`` files of ``--media-kb`` KB (a benign
JPEG padded with random bytes, so compression cannot flatter anyone), as recorded HTTP
exchanges. Then, on the same bytes:

**Write**
- *warcio alone (baseline)*: ``WARCWriter`` (its default SHA-1 digests), request + response
  records, gzip per record: what any warcio tool pays.
- *haechi WARC*: :class:`WarcBuilder` (SHA-256 digests, CDXJ lines while writing).
- *zip of the WARC (baseline)*: the WARC stored in a zip, nothing else.
- *haechi WACZ*: :func:`write_wacz` (zip, SHA-256 of every file, index, pages, signed digest).
- *py-wacz create*: the reference tool making a WACZ from the same WARC (re-indexes it).

**Verify**
- *SHA-256 of the file (baseline)*: the floor; any check reads every byte at least once.
- *py-wacz validate*: the reference validator.
- *haechi verify*: :func:`verify_wacz` (hashes, signature, every WARC record's digests,
  py-wacz, and the timestamp check, which finds no token here).

MB/s counts the WARC's bytes for every row; pages/s the HTML pages. The machine may be
shared: medians of ``--repeat`` runs.

    .venv/bin/python bench/bench_capture.py                     # 1,000 pages + 200 x 256 KB
    .venv/bin/python bench/bench_capture.py --pages 50 --media 10 --repeat 1 --json out.json
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from warcio.warcwriter import WARCWriter

from haechi.collect.web_capture.fetch import Exchange
from haechi.collect.web_capture.verify import verify_wacz
from haechi.collect.web_capture.wacz import PageEntry, write_wacz
from haechi.collect.web_capture.warc import WarcBuilder
from haechi.demo.capture_site import POSTS, DemoPost, channel_page, jpeg
from haechi.store.keys import Signer, load_verifier, public_pem

MB = 1024 * 1024


def _http(status: str, ctype: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def exchanges(pages: int, media: int, media_kb: int) -> list[Exchange]:
    now = datetime.now(UTC)
    out = []
    for i in range(pages):
        posts = [
            DemoPost(p.id + 100 * i, p.when, p.text, p.photos, p.video, p.views) for p in POSTS
        ]
        body = channel_page(posts).encode()
        url = f"https://t.me/s/haechi_demo_news?before={1000 + i}"
        request = (
            f"GET /s/haechi_demo_news?before={1000 + i} HTTP/1.1\r\nHost: t.me\r\n\r\n".encode()
        )
        out.append(Exchange(url, now, request, _http("200 OK", "text/html", body), 200, "OK",
                            [("Content-Type", "text/html")], body))  # fmt: skip
    picture = jpeg("coffee")
    for i in range(media):
        body = picture + os.urandom(max(0, media_kb * 1024 - len(picture)))
        url = f"https://cdn4.telesco.pe/file/{i:06d}.jpg"
        request = f"GET /file/{i:06d}.jpg HTTP/1.1\r\nHost: cdn4.telesco.pe\r\n\r\n".encode()
        out.append(Exchange(url, now, request, _http("200 OK", "image/jpeg", body), 200, "OK",
                            [("Content-Type", "image/jpeg")], body))  # fmt: skip
    return out


def warcio_alone(exs: list[Exchange], path: Path) -> None:
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for ex in exs:
            resp = writer.create_warc_record(
                ex.url, "response", payload=io.BytesIO(ex.response), length=len(ex.response)
            )
            req = writer.create_warc_record(
                ex.url, "request", payload=io.BytesIO(ex.request), length=len(ex.request)
            )
            writer.write_request_response_pair(req, resp)


def haechi_warc(exs: list[Exchange], path: Path) -> WarcBuilder:
    builder = WarcBuilder(path)
    builder.warcinfo({"software": "bench"})
    for ex in exs:
        builder.exchange(ex)
    builder.close()
    return builder


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--media", type=int, default=200)
    ap.add_argument("--media-kb", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    exs = exchanges(args.pages, args.media, args.media_kb)
    wacz_cli = Path(sys.executable).with_name("wacz")
    signer = Signer(Ed25519PrivateKey.generate())
    wacz_key = ec.generate_private_key(ec.SECP384R1())
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        counter = iter(range(10**6))

        def fresh(name: str) -> Path:
            return work / f"{next(counter)}-{name}"

        sec, _ = timed(lambda: warcio_alone(exs, fresh("warcio.warc.gz")), args.repeat)
        rows.append({"phase": "write", "method": "warcio alone (baseline)", "seconds": sec})
        warc = work / "data.warc.gz"
        sec, builder = timed(lambda: haechi_warc(exs, fresh("data.warc.gz")), args.repeat)
        rows.append({"phase": "write", "method": "haechi WARC (SHA-256, CDXJ)", "seconds": sec})
        haechi_warc(exs, warc)
        size = warc.stat().st_size

        def plain_zip() -> None:
            with zipfile.ZipFile(fresh("plain.zip"), "w") as zf:
                zf.write(warc, "archive/data.warc.gz", compress_type=zipfile.ZIP_STORED)

        sec, _ = timed(plain_zip, args.repeat)
        rows.append({"phase": "package", "method": "zip of the WARC (baseline)", "seconds": sec})
        pages = [PageEntry(ex.url, ex.date) for ex in exs if ex.content_type == "text/html"]

        def ours() -> Path:
            out = fresh("capture.wacz")
            write_wacz(out, warc, builder.index, pages, signer=signer, wacz_key=wacz_key,
                       created=datetime.now(UTC),
                       title="bench", main_url=pages[0].url)  # fmt: skip
            return out

        sec, wacz = timed(ours, args.repeat)
        rows.append(
            {"phase": "package", "method": "haechi WACZ (hashes, index, signed)", "seconds": sec}
        )

        def reference() -> None:
            subprocess.run([str(wacz_cli), "create", "-o", str(fresh("ref.wacz")), str(warc)],
                           check=True, capture_output=True)  # fmt: skip

        sec, _ = timed(reference, args.repeat)
        rows.append({"phase": "package", "method": "py-wacz create", "seconds": sec})

        def sha() -> str:
            h = hashlib.sha256()
            with wacz.open("rb") as fh:
                while block := fh.read(MB):
                    h.update(block)
            return h.hexdigest()

        sec, _ = timed(sha, args.repeat)
        rows.append({"phase": "verify", "method": "SHA-256 of the file (baseline)", "seconds": sec})

        def validate() -> None:
            cmd = [str(wacz_cli), "validate", "-f", str(wacz)]
            subprocess.run(cmd, check=True, capture_output=True)

        sec, _ = timed(validate, args.repeat)
        rows.append({"phase": "verify", "method": "py-wacz validate", "seconds": sec})
        key = work / "key.pem"
        key.write_bytes(public_pem(signer.public))
        trusted = load_verifier([key])
        sec, check = timed(
            lambda: verify_wacz(wacz, trusted=trusted, token=None, tsa_ca=None), args.repeat
        )
        assert all(v == "ok" for k, v in check.checks.items() if k != "timestamp"), check.checks
        rows.append({"phase": "verify", "method": "haechi verify (all checks)", "seconds": sec})
    baselines = {"write": rows[0], "package": rows[2], "verify": rows[5]}
    print(f"{len(pages)} pages + {args.media} media of {args.media_kb} KB; "
          f"WARC {size / MB:.1f} MB; median of {args.repeat}")  # fmt: skip
    print("| phase | method | seconds | MB/s (WARC) | pages/s | vs baseline |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        r["mb_per_s"] = size / MB / r["seconds"]
        r["pages_per_s"] = len(pages) / r["seconds"]
        r["vs_baseline"] = r["seconds"] / baselines[r["phase"]]["seconds"]
        print(f"| {r['phase']} | {r['method']} | {r['seconds']:.3f} | {r['mb_per_s']:.1f} | "
              f"{r['pages_per_s']:.0f} | {r['vs_baseline']:.2f}x time |")  # fmt: skip
    if args.json:
        args.json.write_text(
            json.dumps({"warc_bytes": size, "pages": len(pages), "rows": rows}, indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
