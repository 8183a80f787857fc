"""Signing-key rotation (issue 17, point 5): the new key signs new events, the old one stays
trusted for the events it signed before, verify, custody export and evidence packages keep
working across it, and a retired key can no longer sign anything."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from tests.cases.casedata import demo_case
from tests.helpers import haechi
from tests.report.test_package import FAST, standalone

from haechi.app import App
from haechi.report.package import create_package
from haechi.report.verify import verify_package
from haechi.run.rotation import rotate
from haechi.run.verify import verify
from haechi.store.custody import CustodyLog, Draft
from haechi.store.keys import Signer, generate_keypair, load_signer
from haechi.store.models import CustodyEvent


def _signers(app: App) -> dict[int, str]:
    with app.db.connect() as conn:
        return dict(conn.execute(select(CustodyEvent.seq, CustodyEvent.key_id)).all())


def test_rotation_keeps_old_events_verifiable(store: App, tmp_path: Path) -> None:
    old = store.signer
    old_private = load_signer(store.settings.signing_key_path)
    done = rotate(store, reason="yearly rotation")
    assert done.old_key_id == old.key_id != done.new_key_id == store.signer.key_id
    with store.db.begin() as conn:  # a new event after the rotation
        after = store.custody.append(conn, "note", None, {"n": 1})
    keys = _signers(store)
    assert keys[done.event_seq] == old.key_id  # the rotation is signed by the old key
    assert keys[after] == done.new_key_id
    assert {keys[s] for s in keys if s < done.event_seq} == {old.key_id}
    with store.db.connect() as conn:
        body = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.seq == done.event_seq)
        ).scalar_one()
    event = json.loads(body)
    assert event["type"] == "key_rotation" and event["data"]["new_key_id"] == done.new_key_id
    assert event["data"]["counter_signature"] and event["data"]["reason"] == "yearly rotation"
    # the private key file now holds the new key; the old public key is kept, retired
    assert load_signer(store.settings.signing_key_path).key_id == done.new_key_id
    assert (store.settings.keys_dir / "retired" / f"{old.key_id}.pub.pem").exists()
    result = verify(store, record=False)
    assert result.ok, result.chain.problems

    # a retired key that signs again is a forgery, even though its signature is valid
    with store.db.begin() as conn:
        forged = CustodyLog(old_private, store.custody.context).append(conn, "note", None, {})
    result = verify(store, record=False)
    assert [str(p) for p in result.chain.problems] == [
        f"forged: event {forged}: signed by key {old.key_id} after event "
        f"{done.event_seq} retired it"
    ]


def test_custody_export_and_offline_check_across_a_rotation(
    sqlite_store: App, tmp_path: Path
) -> None:
    home = sqlite_store.settings.home
    old_pub = tmp_path / "old.pem"
    old_pub.write_bytes(sqlite_store.settings.public_key_path.read_bytes())
    assert haechi("keys", "rotate", "--reason", "staff change", home=home).returncode == 0
    listed = json.loads(haechi("keys", "list", "--json", home=home, check=True).stdout)
    assert len(listed["retired"]) == 1 and listed["current"] not in listed["retired"]
    haechi("custody", "export", str(tmp_path / "log.jsonl"), home=home, check=True)
    # the old key alone vouches for the new one through the rotation event
    proc = haechi("verify", "--log", str(tmp_path / "log.jsonl"), "--public-key", str(old_pub))
    assert proc.returncode == 0, proc.stdout
    proc = haechi("verify", home=home)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_packages_verify_across_a_rotation(store: App, tmp_path: Path) -> None:
    ref = demo_case(store)
    old = store.signer
    done = rotate(store, reason="compromise drill")
    pkg = create_package(store, ref, tmp_path / "pkg", FAST).path
    shipped = sorted(p.name for p in (pkg / "custody" / "public_keys").iterdir())
    assert shipped == sorted([f"{old.key_id}.pem", f"{done.new_key_id}.pem"])
    result = verify_package(pkg)
    assert result.ok, result.problems
    assert result.facts["key_id"] == done.new_key_id
    assert set(result.facts["key_ids"]) == {old.key_id, done.new_key_id}  # type: ignore[arg-type]
    # the unit gives only its current key: the older events follow from the rotation
    current = tmp_path / "current.pem"
    current.write_bytes(store.settings.public_key_path.read_bytes())
    proc = standalone(pkg, "--public-key", str(current))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # a key that is neither: every event is untrusted
    stranger: Signer = generate_keypair(tmp_path / "s.pem", tmp_path / "s.pub.pem")
    proc = standalone(pkg, "--public-key", str(tmp_path / "s.pub.pem"), "--json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 1 and not report["ok"]
    assert any(f"signed by key {old.key_id}, which is not trusted" in p for p in report["problems"])
    assert stranger.key_id not in json.dumps(report["key_ids"])


def test_rotation_inside_the_signature_read_ahead(store: App) -> None:
    """verify checks signatures ahead of the walk (up to 1,024 events); events signed by
    the new key, read ahead before the walk reached the rotation that introduced it, are
    checked again with it: a long log verifies across a rotation, and the retired key
    signing later is still named."""
    old_private = load_signer(store.settings.signing_key_path)
    with store.db.begin() as conn:
        store.custody.append_many(conn, [Draft("note", None, {"n": i}) for i in range(700)])
    done = rotate(store, reason="read-ahead")
    with store.db.begin() as conn:
        store.custody.append_many(conn, [Draft("note", None, {"n": i}) for i in range(700)])
    result = verify(store, record=False)
    assert result.ok, result.chain.problems[:3]
    with store.db.begin() as conn:
        forged = CustodyLog(old_private, store.custody.context).append(conn, "note", None, {})
    result = verify(store, record=False)
    assert [p.seq for p in result.chain.problems] == [forged]
    assert f"after event {done.event_seq} retired it" in str(result.chain.problems[0])
