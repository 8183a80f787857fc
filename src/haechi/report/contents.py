"""The files of an evidence package besides its manifest and custody log: originals copied
out of the vault (re-hashed on the way), the verbatim messages, the keys that signed the
events shipped, the README. Each is written through the package's writer and comes back as
its manifest entry (path, role, SHA-256, size)."""

from __future__ import annotations

import json
from typing import Any

from haechi.app import App
from haechi.cases.timefmt import kst, utc
from haechi.domain import IntegrityError
from haechi.i18n import N_, t_
from haechi.report.gather import Evidence
from haechi.report.writer import PackageWriter
from haechi.store import textsafe
from haechi.store.custody import StoredEvent
from haechi.store.keys import public_pem
from haechi.store.vaultcrypto import CryptoError


def signing_keys(app: App, out: PackageWriter, events: list[StoredEvent]) -> list[dict[str, Any]]:
    """``custody/public_keys/<key id>.pem`` for every key that signed an event shipped
    (the current key signs the export event; older events may carry keys retired by
    ``haechi keys rotate``), so the package verifies across a rotation."""
    known = app.verifier().keys
    kids = sorted({e.key_id for e in events if e.key_id} | {app.signer.key_id})
    return [
        put(out, f"custody/public_keys/{kid}.pem", public_pem(known[kid]), "public_key")
        for kid in kids
        if kid in known
    ]


def copy_original(app: App, out: PackageWriter, sha: str, name: str, role: str) -> dict[str, Any]:
    try:
        with app.vault.open(sha) as stream:
            got, size = out.put_stream(name, stream)
    except CryptoError as exc:  # an encrypted object whose tag fails: altered, or wrong key
        if exc.reason == "wrong_key":
            raise
        got = f"something else ({exc})"
    if got != sha:
        raise IntegrityError(
            t_(
                "The vault object {sha} no longer matches its SHA-256 (it "
                "reads as {got}): run `haechi verify`; the package was not "
                "written.",
                sha=sha,
                got=got,
            )
        )
    return {"path": name, "role": role, "sha256": got, "size": size}


def put(out: PackageWriter, name: str, data: bytes, role: str) -> dict[str, Any]:
    sha, size = out.put_bytes(name, data)
    return {"path": name, "role": role, "sha256": sha, "size": size}


def messages_jsonl(evidence: Evidence) -> bytes:
    lines = []
    for m in evidence.messages:
        lines.append(
            json.dumps(
                {
                    "item_id": m.item_id,
                    "chat": m.chat,
                    "chat_tg_id": m.chat_tg_id,
                    "message_id": m.message_id,
                    "url": m.url,
                    "date_utc": utc(m.date_unix),
                    "date_kst": kst(m.date_unix),
                    "date_raw": m.date_raw,
                    "source_id": m.source_id,
                    "source_root_sha256": m.source_root_sha256,
                    "raw_offset": m.raw_offset,
                    "raw_sha256": m.raw_sha256,
                    "raw": m.raw,
                },
                # a raw text holding lone surrogates (bytes that were not UTF-8 in the
                # source) is written with \u escapes, so the file stays valid UTF-8
                ensure_ascii=not textsafe.storable(m.raw),
            )
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


# The README's paragraphs, in English; the Korean under them comes from the catalogue
# (haechi.i18n, ``make i18n``): a court in Korea reads the same file.
README_PARTS = (
    N_(
        "Contents\n"
        "  originals/             the captured files, named by SHA-256, byte for byte\n"
        "  messages.jsonl         each message exactly as the source gave it, with its hash\n"
        "  manifest.json/.csv     every file of this package with SHA-256, size and capture\n"
        "                         details (UTC and KST)\n"
        "  custody/events.jsonl   the signed custody events that concern this case; the last\n"
        "                         one is the export event, which records manifest.json's hash\n"
        "  custody/public_key.pem the Ed25519 key that signed them\n"
        "  report/                the case report (HTML, PDF)\n"
        "  case.jsonld            the case in CASE/UCO JSON-LD\n"
        "  SHA256SUMS             checkable with `sha256sum -c SHA256SUMS`"
    ),
    N_(
        "Verify (needs Python 3.9+ and `pip install cryptography`, nothing else):\n"
        "  python3 verify_package.py .\n"
        "  python3 verify_package.py . --public-key KEY_FROM_THE_UNIT.pem\n"
        "  python3 verify_package.py . --lang ko      (the verifier's report in Korean)"
    ),
    N_(
        "Compare the key id it prints with the one the unit gives you independently: a\n"
        "package re-signed with another key verifies only against that other key.\n"
        "Victims are named by label (V1, ...) unless the manifest says victim identifiers\n"
        "were revealed. The originals are the evidence and are never altered or redacted."
    ),
)


def readme(evidence: Evidence) -> str:
    from haechi.i18n import translate

    ref = evidence.detail.ref
    english = "\n\n".join(README_PARTS)
    korean = "\n\n".join(translate(part, "ko") for part in README_PARTS)
    return (
        f"haechi evidence package — case {ref}\n"
        "==============================================\n\n"
        f"{english}\n\n\n"
        f"해치 증거 패키지 — 사건 {ref}\n"
        "==============================================\n\n"
        f"{korean}\n"
    )
