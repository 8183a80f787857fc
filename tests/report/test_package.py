"""Evidence packages: complete, checkable offline by the standalone verifier in a separate
Python process without haechi, and every alteration after export named."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.cases.casedata import demo_case

from haechi.app import App
from haechi.cases import people
from haechi.cases.model import CaseError
from haechi.domain import IntegrityError
from haechi.report.package import PackageOptions, create_package
from haechi.report.verify import verify_package
from haechi.store.models import CustodyEvent

FAST = PackageOptions(pdf=False)  # WeasyPrint takes seconds; the PDF has its own test


def standalone(package: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the package's own verify_package.py where haechi cannot be imported: no site
    processing (so no editable-install hook), only the interpreter's site-packages on the
    path for `cryptography`, and the package folder as the working directory."""
    env = {"PYTHONPATH": sysconfig.get_paths()["purelib"], "PATH": os.environ.get("PATH", "")}
    script = package / "verify_package.py" if package.is_dir() else package.parent / "v.py"
    cmd = [sys.executable, "-S", str(script), str(package), *args]
    return subprocess.run(
        cmd, capture_output=True, text=True, env=env, cwd=package.parent, timeout=120
    )


def test_haechi_is_not_importable_where_the_verifier_runs(tmp_path: Path) -> None:
    env = {"PYTHONPATH": sysconfig.get_paths()["purelib"]}
    probe = subprocess.run(
        [sys.executable, "-S", "-c", "import cryptography\nimport haechi"],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert probe.returncode != 0 and "No module named 'haechi'" in probe.stderr


def test_package_contents_and_offline_verification(store: App, tmp_path: Path) -> None:
    ref = demo_case(store)
    result = create_package(store, ref, tmp_path / "pkg", FAST)
    pkg = result.path
    manifest = json.loads((pkg / "manifest.json").read_text())
    originals = [f for f in manifest["files"] if f["role"] == "original"]
    assert len(originals) == 2
    for f in originals:
        data = (pkg / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] == Path(f["path"]).stem
        assert store.vault.read_bytes(f["sha256"]) == data  # byte for byte the vault's
        cap = f["captures"][0]
        assert cap["captured_at_utc"].endswith("UTC") and cap["captured_at_kst"].endswith("KST")
        assert cap["custody_event"] and cap["collector"] == "telegram-desktop-export"
    events = [json.loads(line) for line in (pkg / "custody/events.jsonl").read_text().splitlines()]
    last = json.loads(events[-1]["body"])
    assert last["type"] == "export" and last["seq"] == result.export_seq
    assert (
        last["data"]["manifest_sha256"]
        == hashlib.sha256((pkg / "manifest.json").read_bytes()).hexdigest()
    )
    types = {json.loads(e["body"])["type"] for e in events}
    assert {
        "init",
        "capture",
        "ingest_started",
        "ingest_finished",
        "case_created",
        "export",
    } <= types
    assert "victim" not in (pkg / "manifest.csv").read_text().lower()
    sums = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=pkg, capture_output=True, text=True
    )
    assert sums.returncode == 0, sums.stdout + sums.stderr
    proc = standalone(pkg)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("OK: case " + ref)
    assert verify_package(pkg).ok  # `haechi verify-package` runs the very same code


def _writable(path: Path) -> None:
    for p in [path, *path.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)


def test_tampering_after_export_is_named(store: App, tmp_path: Path) -> None:
    ref = demo_case(store)
    good = create_package(store, ref, tmp_path / "good", FAST).path
    _writable(good)
    cases = {}
    for name in ("altered", "missing", "extra", "manifest", "event"):
        copy = tmp_path / name
        shutil.copytree(good, copy)
        cases[name] = copy
    original = sorted((cases["altered"] / "originals").iterdir())[0]
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0x01
    original.write_bytes(bytes(data))
    (sorted((cases["missing"] / "originals").iterdir())[1]).unlink()
    (cases["extra"] / "originals" / "planted.jpg").write_bytes(b"not evidence")
    manifest = cases["manifest"] / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"status": "open"', '"status": "closed"'))
    log = cases["event"] / "custody/events.jsonl"
    lines = log.read_text().splitlines()
    lines[1] = lines[1].replace("ingest_started", "ingest_startet")
    log.write_text("\n".join(lines) + "\n")
    expected = {
        "altered": f"altered: originals/{original.name}",
        "missing": "missing: originals/",
        "extra": "unexpected: originals/planted.jpg",
        "manifest": "altered: manifest.json is not the manifest the signed export event recorded",
        "event": "no longer matches its recorded hash",
    }
    for name, needle in expected.items():
        proc = standalone(cases[name])
        assert proc.returncode == 1, (name, proc.stdout, proc.stderr)
        assert "FAILED" in proc.stdout and needle in proc.stdout, (name, proc.stdout)
        assert "Traceback" not in proc.stderr
    proc = standalone(cases["altered"], "--json")
    report = json.loads(proc.stdout)
    assert not report["ok"] and report["problems"] == [
        f"altered: originals/{original.name} (SHA-256 {hashlib.sha256(data).hexdigest()}, "
        f"the manifest says {original.stem})"
    ]


def _fix_sums(pkg: Path) -> None:
    """What a careful forger does after editing the event log: SHA256SUMS is not signed,
    so make it agree again."""
    sums = pkg / "SHA256SUMS"
    lines = []
    for line in sums.read_text().splitlines():
        _want, _, name = line.partition("  ")
        lines.append(f"{hashlib.sha256((pkg / name).read_bytes()).hexdigest()}  {name}")
    sums.write_text("\n".join(lines) + "\n")


def _events(pkg: Path) -> list[str]:
    return (pkg / "custody/events.jsonl").read_text().splitlines()


def _seq(line: str) -> int:
    return int(json.loads(json.loads(line)["body"])["seq"])


@pytest.mark.parametrize("change", ["dropped", "dropped_reveal", "added", "reordered"])
def test_events_removed_added_or_moved_are_named(store: App, tmp_path: Path, change: str) -> None:
    """The signed export event lists the events shipped: deleting a line of the event log
    (a reveal, say) and fixing the unsigned SHA256SUMS no longer passes either verifier."""
    ref = demo_case(store)
    good = create_package(store, ref, tmp_path / "good", FAST).path
    _writable(good)
    export = json.loads(json.loads(_events(good)[-1])["body"])
    assert (
        export["type"] == "export" and export["data"]["events"]["count"] == len(_events(good)) - 1
    )
    assert standalone(good).returncode == 0
    # A later, unrelated event of the same log, validly signed (from another package).
    other = create_package(store, ref, tmp_path / "later", FAST).path
    later_export = _events(other)[-1]
    pkg = tmp_path / change
    shutil.copytree(good, pkg)
    lines = _events(pkg)
    if change == "dropped":
        victim = lines.pop(2)
        needle = f"missing: custody event(s) {_seq(victim)} were shipped"
    elif change == "dropped_reveal":
        # reveal an original through the web service, package again, drop the access event
        from haechi.auth.types import Actor
        from haechi.services import media

        sha = sorted((good / "originals").iterdir())[0].stem
        media.reveal(store, Actor(None, "lee", "investigator"), sha)
        fresh = create_package(store, ref, tmp_path / "fresh", FAST).path
        _writable(fresh)
        shutil.rmtree(pkg)
        shutil.copytree(fresh, pkg)
        lines = _events(pkg)
        access = [ln for ln in lines if json.loads(json.loads(ln)["body"])["type"] == "access"]
        assert access, "the reveal left no access event in the package"
        lines.remove(access[-1])
        needle = f"missing: custody event(s) {_seq(access[-1])} were shipped"
    elif change == "added":
        lines.insert(-1, later_export)
        needle = f"added: custody event(s) {_seq(later_export)} are in"
    else:
        lines[1], lines[2] = lines[2], lines[1]
        needle = "reordered: the events in custody/events.jsonl are not in the order"
    (pkg / "custody/events.jsonl").write_text("\n".join(lines) + "\n")
    _fix_sums(pkg)
    proc = standalone(pkg)
    assert proc.returncode == 1, proc.stdout
    assert needle in proc.stdout, proc.stdout
    inside = verify_package(pkg)  # `haechi verify-package` runs the same module
    assert not inside.ok and any(needle in p for p in inside.problems), inside.problems


def test_zip_package(store: App, tmp_path: Path) -> None:
    ref = demo_case(store)
    result = create_package(store, ref, tmp_path / "pkg.zip", FAST)
    assert zipfile.is_zipfile(result.path)
    with zipfile.ZipFile(result.path) as zf:
        (tmp_path / "v.py").write_bytes(zf.read("pkg/verify_package.py"))
        names = zf.namelist()
    assert all(n.startswith("pkg/") for n in names)
    proc = standalone(result.path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    victim_name = next(n for n in names if n.startswith("pkg/originals/"))
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(result.path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == victim_name:
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            dst.writestr(info, data)
    proc = standalone(tampered)
    assert proc.returncode == 1 and f"altered: {victim_name[4:]}" in proc.stdout


def test_not_a_package_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    shutil.copy(
        Path(__file__).resolve().parents[2] / "src/haechi/report/standalone/verify_package.py",
        tmp_path / "empty" / "verify_package.py",
    )
    proc = standalone(tmp_path / "empty")
    assert proc.returncode == 2
    assert proc.stdout.strip() == (
        "CANNOT VERIFY: manifest.json is missing: this is not a complete haechi evidence package"
    )


def test_victims_redacted_unless_revealed_with_consent(store: App, tmp_path: Path) -> None:
    # "Chelsea" is the victim's recorded name here, and a word in one of the case's posts
    ref = demo_case(store, name="Chelsea")
    first = create_package(store, ref, tmp_path / "redacted", PackageOptions(pdf=False))
    exported = [
        p for p in first.path.rglob("*") if p.suffix in (".json", ".csv", ".html", ".jsonld")
    ]
    exported.append(first.path / "custody/events.jsonl")
    for path in exported:
        assert "Chelsea" not in path.read_text(), path
    assert "[V1] is on duty" in (first.path / "report/report.html").read_text()
    # the messages are evidence, kept verbatim: redaction never edits them
    assert "Chelsea is on duty" in (first.path / "messages.jsonl").read_text()
    with pytest.raises(CaseError, match="no consent record for evidence sharing"):
        create_package(
            store, ref, tmp_path / "revealed", PackageOptions(pdf=False, reveal_victims=True)
        )
    assert not (tmp_path / "revealed").exists()
    people.record_consent(store, ref, "V1", "evidence_sharing")
    shown = create_package(
        store, ref, tmp_path / "revealed", PackageOptions(pdf=False, reveal_victims=True)
    )
    manifest = json.loads((shown.path / "manifest.json").read_text())
    assert manifest["victim_identifiers"] == "revealed"
    assert manifest["case"]["victims"][0]["name"] == "Chelsea"
    with store.db.connect() as conn:
        types = list(
            conn.execute(
                select(CustodyEvent.event_type).order_by(CustodyEvent.seq.desc()).limit(2)
            ).scalars()
        )
    assert types == ["export", "access"]


def test_case_without_consent_records_is_flagged(store: App, tmp_path: Path) -> None:
    ref = demo_case(store, consent=False)
    result = create_package(store, ref, tmp_path / "pkg", FAST)
    assert result.warnings == ["victim V1 has no consent record at all"]
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["warnings"] == result.warnings


def test_damaged_vault_object_stops_the_export(store: App, tmp_path: Path) -> None:
    ref = demo_case(store)
    victim = store.vault.path_for(
        json.loads(
            create_package(store, ref, tmp_path / "first", FAST)
            .path.joinpath("manifest.json")
            .read_text()
        )["files"][0]["sha256"]
    )
    victim.chmod(0o644)
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="no longer matches its SHA-256"):
        create_package(store, ref, tmp_path / "second", FAST)
    assert not list(tmp_path.glob("second*"))  # nothing half-written is left


def test_messages_checked_against_the_captured_export(store: App, tmp_path: Path) -> None:
    ref = demo_case(store)
    pkg = create_package(
        store, ref, tmp_path / "pkg", PackageOptions(pdf=False, source_json=True)
    ).path
    report = json.loads(standalone(pkg, "--json").stdout)
    assert report["ok"], report["problems"]
    assert report["messages"] == report["messages_checked_in_source"] == 2
    _writable(pkg)
    log = pkg / "messages.jsonl"
    records = [json.loads(line) for line in log.read_text().splitlines()]
    records[0]["raw"] = records[0]["raw"].replace('"id": 4', '"id": 9')
    records[0]["raw_sha256"] = hashlib.sha256(records[0]["raw"].encode()).hexdigest()  # consistent
    log.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    problems = json.loads(standalone(pkg, "--json").stdout)["problems"]
    assert "altered: messages.jsonl (SHA-256" in problems[0]
    assert any("is not what originals/" in p for p in problems), problems


def test_messages_with_bytes_no_column_holds_verify(app: App, tmp_path: Path) -> None:
    """A message whose source bytes are not valid UTF-8 or hold a NUL is stored in an
    escaped form; its package record still gives back, and is checked against, the very
    bytes of the captured result.json."""
    from tests.test_ingest_hostile import write_hostile

    from haechi.cases import items, service
    from haechi.collect.telegram_export import TelegramExportCollector
    from haechi.run.ingest import Ingestor
    from haechi.store.models import Chat

    Ingestor(app, TelegramExportCollector(write_hostile(tmp_path / "export"))).run()
    with app.db.connect() as conn:
        chat = conn.execute(select(Chat.key)).scalar_one()
    case = service.create_case(app, "Hostile bytes", reported_on="2024-08-20")
    for mid in (1, 2, 4, 5, 12):  # a lone surrogate, NULs, invalid UTF-8, plain
        items.add_message(app, case.ref, chat=chat, message_id=mid)
    pkg = create_package(
        app, case.ref, tmp_path / "pkg", PackageOptions(pdf=False, source_json=True)
    )
    report = json.loads(standalone(pkg.path, "--json").stdout)
    assert report["ok"], report["problems"]
    assert report["messages"] == report["messages_checked_in_source"] == 5
    source = (tmp_path / "export" / "result.json").read_bytes()
    records = [json.loads(x) for x in (pkg.path / "messages.jsonl").read_text().splitlines()]
    bad = next(r for r in records if r["message_id"] == 5)
    assert (
        "\udcff" in bad["raw"]
        and hashlib.sha256(source[bad["raw_offset"] :].split(b"\n")[0].rstrip(b",")).hexdigest()
        == bad["raw_sha256"]
    )


def test_a_package_is_its_owners_alone(store: App, tmp_path: Path) -> None:
    """Originals of abuse material must not be readable by every local user."""
    ref = demo_case(store)
    folder = create_package(store, ref, tmp_path / "pkg", FAST).path
    for path in folder.rglob("*"):
        mode = path.stat().st_mode & 0o777
        assert mode & 0o077 == 0, (path, oct(mode))
    zipped = create_package(store, ref, tmp_path / "pkg.zip", FAST).path
    with zipfile.ZipFile(zipped) as zf:
        assert all((i.external_attr >> 16) & 0o077 == 0 for i in zf.infolist())
