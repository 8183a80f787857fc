"""The WACZ, its signature and its RFC 3161 timestamp: verified, and caught when altered."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from haechi.app import App
from haechi.collect.web_capture import signing
from haechi.collect.web_capture import timestamp as tsa_mod
from haechi.collect.web_capture.errors import TimestampFailed
from haechi.collect.web_capture.local_tsa import make_authority
from haechi.collect.web_capture.service import CaptureOptions, capture
from haechi.collect.web_capture.verify import verify_wacz
from haechi.store.keys import Signer

WACZ_CLI = Path(sys.executable).with_name("wacz")


@pytest.fixture
def captured(sqlite_app: App, site, tsa, tmp_path: Path) -> Path:
    opts = CaptureOptions(
        tsa_url=tsa.url, tsa_ca=tsa.ca_path, out_dir=tmp_path / "out", screenshot=False
    )
    capture(sqlite_app, site.url("/s/haechi_demo_news"), opts)
    return next((tmp_path / "out").glob("*-capture.wacz"))


def _rewrite(src: Path, dest: Path, change: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, change.get(info.filename, zin.read(info.filename)))
    return dest


def _pywacz_ok(path: Path) -> bool:
    done = subprocess.run(
        [str(WACZ_CLI), "validate", "-f", str(path)], capture_output=True, text=True
    )
    return done.returncode == 0


def test_index_matches_the_reference_indexer(captured: Path, tmp_path: Path) -> None:
    from cdxj_indexer.main import write_cdx_index

    with zipfile.ZipFile(captured) as zf:
        ours = zf.read("indexes/index.cdx").decode().splitlines()
        warc = tmp_path / "data.warc.gz"
        warc.write_bytes(zf.read("archive/data.warc.gz"))
    out = io.StringIO()
    write_cdx_index(out, [str(warc)], {"sort": True})
    theirs = [ln for ln in out.getvalue().splitlines() if ln and " " in ln]

    def key(line: str) -> tuple[str, str, str, str]:
        surt, ts, data = line.split(" ", 2)
        d = json.loads(data)
        return surt, ts, d["offset"], d["length"]

    assert {key(x) for x in ours} == {
        key(x)
        for x in theirs
        if '"request"' not in x and not x.startswith("- ")  # warcinfo
    }


def test_altered_warc_is_caught(captured: Path, sqlite_app: App, tsa, tmp_path: Path) -> None:
    with zipfile.ZipFile(captured) as zf:
        warc = bytearray(zf.read("archive/data.warc.gz"))
    warc[len(warc) // 2] ^= 0xFF
    bad = _rewrite(captured, tmp_path / "bad.wacz", {"archive/data.warc.gz": bytes(warc)})
    check = verify_wacz(bad, trusted=sqlite_app.verifier(), token=None, tsa_ca=tsa.ca_path)
    assert "altered" in check.checks["package"] and not check.ok
    assert check.checks["timestamp"] != "ok"  # no token beside, and it would cover the original
    assert not _pywacz_ok(bad)


def test_forged_and_untrusted_signatures(captured: Path, sqlite_app: App, tmp_path: Path) -> None:
    with zipfile.ZipFile(captured) as zf:
        record = json.loads(zf.read("datapackage-digest.json"))
    created = record["signedData"]["created"]
    other, other_ec = Signer(Ed25519PrivateKey.generate()), ec.generate_private_key(ec.SECP384R1())
    # both signatures made again by other keys: valid, but not by a trusted custody key
    resigned = {**record, "signedData": signing.sign(other, other_ec, record["hash"], created)}
    digest_json = json.dumps(resigned).encode()
    swapped = _rewrite(
        captured, tmp_path / "swapped.wacz", {"datapackage-digest.json": digest_json}
    )
    check = verify_wacz(swapped, trusted=sqlite_app.verifier(), token=None, tsa_ca=None)
    assert "not trusted" in check.checks["signature"]
    # our custody key named, another key's Ed25519 signature: forged
    forged = json.loads(json.dumps(resigned))
    ours = signing.sign(sqlite_app.signer, other_ec, record["hash"], created)
    forged["signedData"]["ed25519PublicKey"] = ours["ed25519PublicKey"]
    bad = _rewrite(
        captured, tmp_path / "forged.wacz", {"datapackage-digest.json": json.dumps(forged).encode()}
    )
    check = verify_wacz(bad, trusted=sqlite_app.verifier(), token=None, tsa_ca=None)
    assert "Ed25519 (haechi's) signature does not verify" in check.checks["signature"]
    # the spec's ECDSA signature damaged: caught too (a replay tool would say so)
    broken = json.loads(json.dumps(record))
    raw = bytearray(base64.b64decode(broken["signedData"]["signature"]))
    raw[5] ^= 1
    broken["signedData"]["signature"] = base64.b64encode(raw).decode()
    bad = _rewrite(
        captured, tmp_path / "ecdsa.wacz", {"datapackage-digest.json": json.dumps(broken).encode()}
    )
    check = verify_wacz(bad, trusted=sqlite_app.verifier(), token=None, tsa_ca=None)
    assert "ECDSA (the spec's) signature does not verify" in check.checks["signature"]
    assert len(base64.b64decode(record["signedData"]["signature"])) == 96  # P-384 r||s
    assert len(base64.b64decode(record["signedData"]["ed25519Signature"])) == 64  # Ed25519


def test_wacz_key_is_made_once_and_recorded(captured: Path, sqlite_app: App) -> None:
    from haechi.store.custody import iter_db_events

    with sqlite_app.db.connect() as conn:
        events = [json.loads(e.body) for e in iter_db_events(conn)]
    made = [e for e in events if e["type"] == signing.KEY_EVENT]
    assert len(made) == 1 and made[0]["data"]["custody_key_id"] == sqlite_app.signer.key_id
    key_file = sqlite_app.settings.keys_dir / signing.KEY_NAME
    assert key_file.stat().st_mode & 0o777 == 0o600
    with zipfile.ZipFile(captured) as zf:
        signed = json.loads(zf.read("datapackage-digest.json"))["signedData"]
    ok, fingerprint = signing.check_ecdsa(signed)
    assert ok and fingerprint == made[0]["data"]["spki_sha256"]


def test_timestamp_checks(captured: Path, tsa, tmp_path: Path) -> None:
    token = captured.with_name(captured.name + ".tsr").read_bytes()
    digest = hashlib.sha256(captured.read_bytes()).digest()
    assert tsa_mod.verify_token(token, digest, tsa.ca_path).ok
    # openssl agrees, from the command line an expert would use
    done = subprocess.run(
        ["openssl", "ts", "-verify", "-data", str(captured), "-in", str(captured) + ".tsr",
         "-CAfile", str(tsa.ca_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0 and "Verification: OK" in done.stdout
    other = tsa_mod.verify_token(token, hashlib.sha256(b"other").digest(), tsa.ca_path)
    assert not other.ok and "another digest" in other.detail
    stranger = make_authority(tmp_path / "other-ca", "another test TSA").parent / "ca.pem"
    wrong_ca = tsa_mod.verify_token(token, digest, stranger)
    assert not wrong_ca.ok and "could not verify" in wrong_ca.detail
    unchecked = tsa_mod.verify_token(token, digest, None)
    assert not unchecked.ok and "root certificate" in unchecked.detail
    copy = tmp_path / "lonely.wacz"
    shutil.copyfile(captured, copy)
    assert (
        "no timestamp token"
        in verify_wacz(copy, trusted=None, token=None, tsa_ca=None).checks["timestamp"]
    )


def test_timestamp_authority_failures(sqlite_app: App, site) -> None:
    with pytest.raises(TimestampFailed, match="could not be reached"):
        tsa_mod.obtain("http://127.0.0.1:9/tsr", b"\0" * 32, timeout=2)
    with pytest.raises(TimestampFailed, match="not a valid RFC 3161 token"):
        tsa_mod.read_token(b"\x30\x03\x02\x01\x00 not a token")
    site.routes["/tsr"] = lambda h: h.send_body(200, "application/timestamp-reply", b"garbage")
    # a TSA that fails never costs the capture: it is kept, signed, without a timestamp
    report = capture(
        sqlite_app,
        site.url("/s/haechi_demo_news"),
        CaptureOptions(tsa_url=site.url("/tsr"), screenshot=False),
    )
    assert report.outcome == "captured" and report.timestamp is None
    assert any("not a valid RFC 3161 token" in w for w in report.warnings)
