"""The demo's capture step: a local site and a local OpenSSL TSA, the WACZ verified."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import haechi


def test_demo_capture_step(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    proc = haechi("demo", "--home", str(home), "--steps", "capture,verify")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "Traceback" not in out + proc.stderr
    assert "9 posts (9 new messages)" in out and "verified by OpenSSL" in out
    for check in ("package", "signature", "warc", "py-wacz", "timestamp"):
        assert f"✓ {check}: ok" in out
    waczs = list((home / "captures").glob("*.wacz"))
    assert len(waczs) == 1 and waczs[0].with_name(waczs[0].name + ".tsr").is_file()
    assert (
        haechi(
            "capture",
            "verify",
            str(waczs[0]),
            "--tsa-ca",
            str(home / "demo-tsa" / "ca.pem"),
            home=home,
        ).returncode
        == 0
    )
