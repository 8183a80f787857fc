"""Package a capture as WACZ 1.1.1 and sign it (WACZ Signing and Verification 0.1.0).

Layout (https://specs.webrecorder.net/wacz/1.1.1/)::

    archive/data.warc.gz        the WARC, stored (not deflated) so replay tools can seek
    indexes/index.cdx           CDXJ, sorted by SURT key then time
    pages/pages.jsonl           the captured pages
    datapackage.json            Frictionless data package: every file's SHA-256 and size
    datapackage-digest.json     SHA-256 of datapackage.json and its ``signedData``

The signature follows the spec's *anonymous* form (``hash``, ``created``, ``software``,
``signature``, ``publicKey``: ECDSA P-384, what replay tools check) and adds the custody
key's Ed25519 signature over the same ``hash`` (see :mod:`.signing`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from haechi import __version__
from haechi.collect.web_capture import signing
from haechi.collect.web_capture.warc import WARC_NAME, IndexLine
from haechi.store.keys import Signer

WACZ_VERSION = "1.1.1"
ARCHIVE = f"archive/{WARC_NAME}"
INDEX = "indexes/index.cdx"
PAGES = "pages/pages.jsonl"
DATAPACKAGE = "datapackage.json"
DIGEST = "datapackage-digest.json"
_COPY = 1024 * 1024
ZIP64_LIMIT = 0xFFFFFFFF - 64 * 1024 * 1024  # margin: the file may still grow while copied


@dataclass(frozen=True)
class PageEntry:
    url: str
    when: datetime
    title: str | None = None
    text: str | None = None

    def line(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "id": uuid.uuid5(uuid.NAMESPACE_URL, f"{self.url} {self.when.isoformat()}").hex,
            "url": self.url,
            "ts": iso(self.when),
        }
        if self.title:
            entry["title"] = self.title
        if self.text:
            entry["text"] = self.text
        return entry


@dataclass
class WaczResult:
    path: Path
    sha256: str
    size: int
    created: str
    datapackage_sha256: str
    signature: str  # Ed25519, by the custody key
    key_id: str
    ecdsa_key: str  # SHA-256 of the WACZ key's SubjectPublicKeyInfo
    resources: list[dict[str, Any]] = field(default_factory=list)


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _zinfo(name: str, when: datetime, stored: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _add_bytes(zf: zipfile.ZipFile, name: str, data: bytes, when: datetime) -> dict[str, Any]:
    zf.writestr(_zinfo(name, when, stored=False), data)
    return {
        "name": name.rsplit("/", 1)[-1].lower(),
        "path": name,
        "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }


def _add_file(zf: zipfile.ZipFile, name: str, src: Path, when: datetime) -> dict[str, Any]:
    # ZIP64 headers only when needed: ReplayWeb.page 2.5.3 cannot read a small stored entry
    # whose local header carries them (it then finds no page at all).
    big = src.stat().st_size >= ZIP64_LIMIT
    digest, size = hashlib.sha256(), 0
    with (
        src.open("rb") as fh,
        zf.open(_zinfo(name, when, stored=True), "w", force_zip64=big) as out,
    ):
        while block := fh.read(_COPY):
            digest.update(block)
            out.write(block)
            size += len(block)
    return {
        "name": name.rsplit("/", 1)[-1].lower(),
        "path": name,
        "hash": "sha256:" + digest.hexdigest(),
        "bytes": size,
    }


def index_text(lines: list[IndexLine]) -> bytes:
    ordered = sorted(lines, key=lambda line: (line.key, line.ts, line.data["offset"]))
    return "".join(line.text() + "\n" for line in ordered).encode("utf-8")


def pages_text(pages: list[PageEntry]) -> bytes:
    header = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    rows = [header, *(p.line() for p in pages)]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def write_wacz(
    out: Path,
    warc: Path,
    index: list[IndexLine],
    pages: list[PageEntry],
    *,
    signer: Signer,
    wacz_key: ec.EllipticCurvePrivateKey,
    created: datetime,
    title: str | None,
    main_url: str,
) -> WaczResult:
    """Write and sign the WACZ at ``out`` (which must not exist)."""
    stamp = iso(created)
    with zipfile.ZipFile(out, "x", allowZip64=True) as zf:
        resources = [
            _add_bytes(zf, PAGES, pages_text(pages), created),
            _add_bytes(zf, INDEX, index_text(index), created),
            _add_file(zf, ARCHIVE, warc, created),
        ]
        package: dict[str, Any] = {
            "profile": "data-package",
            "resources": resources,
            "wacz_version": WACZ_VERSION,
            "software": f"haechi {__version__}",
            "created": stamp,
            "title": title or main_url,
            "mainPageURL": main_url,
            "mainPageDate": iso(pages[0].when) if pages else stamp,
        }
        package_bytes = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
        zf.writestr(_zinfo(DATAPACKAGE, created, stored=False), package_bytes)
        digest = "sha256:" + hashlib.sha256(package_bytes).hexdigest()
        signed = signing.sign(signer, wacz_key, digest, stamp)
        record = {"path": DATAPACKAGE, "hash": digest, "signedData": signed}
        zf.writestr(_zinfo(DIGEST, created, stored=False), json.dumps(record, indent=2).encode())
    whole = hashlib.sha256()
    with out.open("rb") as fh:
        while block := fh.read(_COPY):
            whole.update(block)
    return WaczResult(
        path=out,
        sha256=whole.hexdigest(),
        size=out.stat().st_size,
        created=stamp,
        datapackage_sha256=digest.split(":", 1)[1],
        signature=signed["ed25519Signature"],
        key_id=signer.key_id,
        ecdsa_key=signing.fingerprint(wacz_key.public_key()),
        resources=resources,
    )
