"""``haechi capture verify FILE.wacz``: check a captured WACZ offline.

1. **Package**: every file the datapackage lists has its SHA-256 and size; nothing unlisted;
   ``datapackage-digest.json`` holds the SHA-256 of ``datapackage.json``.
2. **Signature**: ``signedData``'s ECDSA signature (the spec's, what replay tools check)
   and its Ed25519 one by a trusted key (the data directory's custody key, or one given
   with ``--public-key``) both cover that digest, made at the package's ``created`` time.
3. **WARC**: every record's block and payload digests (warcio's own check).
4. **py-wacz**: the reference validator (``wacz validate``) accepts the file.
5. **Timestamp**: ``FILE.wacz.tsr`` (an RFC 3161 TimeStampResp) covers the SHA-256 of the
   whole WACZ, and OpenSSL verifies it against the TSA's root certificate.

Reading is bounded: a WACZ is untrusted input (entry names, sizes and counts are checked
before anything is extracted, and nothing is written outside a private temporary folder).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haechi.collect.web_capture import signing
from haechi.collect.web_capture import timestamp as tsa
from haechi.collect.web_capture.wacz import ARCHIVE, DATAPACKAGE, DIGEST
from haechi.store.keys import Verifier, key_id

MAX_ENTRIES = 10_000
MAX_JSON = 64 * 1024 * 1024
_BLOCK = 1024 * 1024


@dataclass
class WaczCheck:
    path: str
    checks: dict[str, str] = field(default_factory=dict)  # name -> "ok" or the problem
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(v == "ok" for v in self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "ok": self.ok, "checks": self.checks, "facts": self.facts}


def _digest(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with zf.open(name) as fh:
        while block := fh.read(_BLOCK):
            h.update(block)
            size += len(block)
    return "sha256:" + h.hexdigest(), size


def _read_json(zf: zipfile.ZipFile, name: str) -> Any:
    info = zf.getinfo(name)
    if info.file_size > MAX_JSON:
        raise ValueError(f"{name} is larger than {MAX_JSON:,} bytes")
    return json.loads(zf.read(name))


def _package(zf: zipfile.ZipFile, res: WaczCheck) -> dict[str, Any] | None:
    names = zf.namelist()
    if len(names) > MAX_ENTRIES or any(n.startswith("/") or ".." in n.split("/") for n in names):
        res.checks["package"] = "the WACZ has too many entries or an entry outside the package"
        return None
    try:
        package = _read_json(zf, DATAPACKAGE)
        listed = {r["path"]: r for r in package["resources"]}
    except (KeyError, ValueError, TypeError) as exc:
        res.checks["package"] = f"datapackage.json is missing or unreadable ({exc})"
        return None
    problems = []
    for path, entry in listed.items():
        if path not in names:
            problems.append(f"{path} is listed but missing")
            continue
        digest, size = _digest(zf, path)
        if digest != entry.get("hash") or size != entry.get("bytes"):
            problems.append(f"{path} does not match its hash in datapackage.json (altered)")
    extra = set(names) - set(listed) - {DATAPACKAGE, DIGEST}
    problems += [
        f"{n} is not listed in datapackage.json" for n in sorted(extra) if not n.endswith("/")
    ]
    res.checks["package"] = "; ".join(problems) or "ok"
    res.facts.update(created=package.get("created"), main_page=package.get("mainPageURL"),
                     wacz_version=package.get("wacz_version"), files=len(listed))  # fmt: skip
    return package


def _signature(
    zf: zipfile.ZipFile, package: dict[str, Any], trusted: Verifier | None, res: WaczCheck
) -> None:
    try:
        record = _read_json(zf, DIGEST)
        signed = record["signedData"]
        want = "sha256:" + hashlib.sha256(zf.read(DATAPACKAGE)).hexdigest()
    except (KeyError, ValueError, TypeError) as exc:
        res.checks["signature"] = f"datapackage-digest.json has no signedData ({exc})"
        return
    if record.get("hash") != want or signed.get("hash") != want:
        res.checks["signature"] = "datapackage.json does not match its signed digest (altered)"
        return
    if signed.get("created") != package.get("created"):
        res.checks["signature"] = "the signature's time differs from the package's created time"
        return
    ecdsa_ok, ecdsa_key = signing.check_ecdsa(signed)
    public = signing.check_ed25519(signed)
    if not ecdsa_ok or public is None:
        which = "ECDSA (the spec's)" if not ecdsa_ok else "Ed25519 (haechi's)"
        res.checks["signature"] = f"the {which} signature does not verify (forged or altered)"
        return
    kid = key_id(public)
    res.facts.update(key_id=kid, ecdsa_key=ecdsa_key, signed_digest=want)
    if trusted is not None and kid not in trusted.keys:
        res.checks["signature"] = f"valid, but made by key {kid}, which is not trusted here"
        return
    res.checks["signature"] = "ok" if trusted is not None else "valid, but no trusted key was given"


def _warc(zf: zipfile.ZipFile, res: WaczCheck) -> None:
    from warcio.archiveiterator import ArchiveIterator

    problems, records = [], 0
    try:
        with zf.open(ARCHIVE) as fh:
            it = ArchiveIterator(fh, check_digests=True)
            for record in it:
                record.content_stream().read()
                records += 1
                if record.digest_checker.passed is False:
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    problems.append(f"a {record.rec_type} record for {uri} fails its digest")
    except KeyError:
        problems.append(f"{ARCHIVE} is missing")
    except Exception as exc:  # warcio raises several types on a damaged archive
        problems.append(f"the WARC is damaged ({type(exc).__name__})")
    res.facts["warc_records"] = records
    res.checks["warc"] = "; ".join(problems[:5]) or "ok"


def _pywacz(path: Path, res: WaczCheck) -> None:
    try:
        from wacz.main import validate_wacz
    except ImportError:
        res.checks["py-wacz"] = "py-wacz is not installed (pip install haechi[live])"
        return

    class _Args:
        file = str(path)
        verify_auth = False
        verifier_url = None

    out = io.StringIO()
    with contextlib.redirect_stdout(out), tempfile.TemporaryDirectory() as tmp:
        old = tempfile.tempdir
        tempfile.tempdir = tmp  # py-wacz extracts the package into a temporary folder
        try:
            code = validate_wacz(_Args())
        except Exception as exc:
            code = 1
            print(f"py-wacz failed ({type(exc).__name__})")
        finally:
            tempfile.tempdir = old
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    res.checks["py-wacz"] = "ok" if code == 0 else (lines[-2] if len(lines) > 1 else "invalid")


def verify_wacz(
    path: Path, *, trusted: Verifier | None, token: Path | None, tsa_ca: Path | None
) -> WaczCheck:
    res = WaczCheck(str(path))
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        res.checks["package"] = f"{path} is not a readable zip file ({exc})"
        return res
    with zf:
        package = _package(zf, res)
        if package is not None:
            _signature(zf, package, trusted, res)
            _warc(zf, res)
    if package is not None:
        _pywacz(path, res)
    whole = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            whole.update(block)
    res.facts["wacz_sha256"] = whole.hexdigest()
    token = token if token is not None else path.with_name(path.name + ".tsr")
    if not token.is_file():
        res.checks["timestamp"] = f"no timestamp token ({token.name} not found beside the file)"
        return res
    check = tsa.verify_token(token.read_bytes(), whole.digest(), tsa_ca)
    res.checks["timestamp"] = "ok" if check.ok else check.detail
    with contextlib.suppress(tsa.TimestampFailed):
        res.facts["timestamp"] = tsa.read_token(token.read_bytes()).as_dict()
    return res
