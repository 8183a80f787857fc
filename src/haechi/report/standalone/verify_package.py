#!/usr/bin/env python3
"""Verify a haechi evidence package. Needs only Python 3.9+ and the `cryptography` package.

    python3 verify_package.py [PACKAGE_DIR_OR_ZIP] [--json] [--public-key KEY.pem]

Checks, and names every problem it finds:

1. Every custody event in custody/events.jsonl: SHA-256 of its body equals its recorded
   hash, its Ed25519 signature verifies with the package's public key (or the key you give
   with --public-key, e.g. one obtained from the unit directly), sequence numbers increase,
   and where two consecutive events are present the later one chains to the earlier.
2. The export event: the signed event that closes the log in the package records the
   SHA-256 of manifest.json, so the manifest is exactly the one haechi wrote, and the
   exact list of custody events shipped before it (sequence numbers and a digest), so an
   event removed from, added to or moved within custody/events.jsonl is named.
3. Every file the manifest lists: present, same size, same SHA-256. A file that was
   altered, removed or added after export is named.
4. Every original file is attested by a signed capture event with the same SHA-256.
5. Every message record's verbatim JSON matches its recorded hash and, when the package
   holds the source's result.json (``--source-json``), the bytes at its offset there.

Exit status: 0 when everything holds, 1 when something does not, 2 when the package
cannot be read at all. This file is written by haechi into each package; it imports
nothing from haechi, so it can be read and run by anyone.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import stat
import sys
import zipfile
import zlib
from pathlib import PurePosixPath
from typing import BinaryIO

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover - the one dependency
    sys.stderr.write(
        "verify_package.py needs the 'cryptography' package: pip install cryptography\n"
    )
    sys.exit(2)

FORMAT = "haechi-evidence-package"
MANIFEST = "manifest.json"
EVENTS = "custody/events.jsonl"
PUBLIC_KEY = "custody/public_key.pem"
PUBLIC_KEYS = "custody/public_keys/"  # every key that signed an event in the package
SUMS = "SHA256SUMS"
UNLISTED = {MANIFEST, EVENTS, SUMS}  # written after the manifest, checked otherwise
MAX_TEXT = 512 * 1024 * 1024  # manifest and event log: refuse anything absurd
CHUNK = 1024 * 1024


class Unreadable(Exception):
    """The package cannot be checked at all."""


# What a damaged or crafted zip member raises when opened or read: a local header that
# differs from the central directory, a bad CRC or deflate stream, an encrypted member
# (RuntimeError), an unsupported compression method (NotImplementedError).
DAMAGED_ZIP = (zipfile.BadZipFile, EOFError, zlib.error, RuntimeError, NotImplementedError)


def safe_name(name: str) -> bool:
    """A relative POSIX path inside the package: no '..', no absolute path, no drive."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or ":" in name:
        return False
    parts = PurePosixPath(name).parts
    return all(p not in ("", ".", "..") for p in parts)


class Package:
    """What the checks need from a folder or a zip: names, and bounded reads by name."""

    def _open(self, name: str) -> BinaryIO:
        raise NotImplementedError

    def names(self) -> list[str]:
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def is_link(self, name: str) -> bool:
        raise NotImplementedError

    def read(self, name: str, limit: int = MAX_TEXT) -> bytes:
        try:
            with self._open(name) as fh:
                data = fh.read(limit + 1)
        except DAMAGED_ZIP as exc:
            raise Unreadable(f"{name} cannot be read from the zip ({exc})") from None
        if len(data) > limit:
            raise Unreadable(f"{name} is larger than {limit} bytes")
        return data

    def read_at(self, name: str, offset: int, length: int) -> bytes:
        try:
            with self._open(name) as fh:
                fh.seek(offset)
                return fh.read(length)
        except DAMAGED_ZIP as exc:
            raise Unreadable(f"{name} cannot be read from the zip ({exc})") from None

    def digest(self, name: str, limit: int) -> tuple[str, int]:
        """SHA-256 and size, reading at most ``limit`` + 1 bytes (so a file grown after
        export, or a zip member that inflates without end, is never read whole)."""
        h, size = hashlib.sha256(), 0
        try:
            with self._open(name) as fh:
                while size <= limit:
                    block = fh.read(min(CHUNK, limit + 1 - size))
                    if not block:
                        break
                    h.update(block)
                    size += len(block)
        except DAMAGED_ZIP as exc:
            raise Unreadable(f"{name} cannot be read from the zip ({exc})") from None
        return h.hexdigest(), size


class Folder(Package):
    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)

    def _path(self, name: str) -> str:
        path = os.path.realpath(os.path.join(self.root, *name.split("/")))
        if not path.startswith(self.root + os.sep):
            raise Unreadable(f"{name} points outside the package")
        return path

    def _open(self, name: str) -> BinaryIO:
        return open(self._path(name), "rb")

    def names(self) -> list[str]:
        out = []
        for base, dirs, files in os.walk(self.root):
            dirs.sort()
            for f in sorted(files):
                full = os.path.join(base, f)
                out.append(os.path.relpath(full, self.root).replace(os.sep, "/"))
        return out

    def exists(self, name: str) -> bool:
        try:
            return os.path.isfile(self._path(name))
        except Unreadable:
            return False

    def is_link(self, name: str) -> bool:
        try:
            return stat.S_ISLNK(os.lstat(os.path.join(self.root, *name.split("/"))).st_mode)
        except OSError:
            return False


class Zip(Package):
    def __init__(self, path: str) -> None:
        try:
            self.zf = zipfile.ZipFile(path)
        except (OSError, ValueError, *DAMAGED_ZIP) as exc:  # e.g. "zip file version 11.0"
            raise Unreadable(f"{path} is not a readable zip file ({exc})") from None
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.duplicates: list[str] = []
        self.unsafe: list[str] = []
        prefix = self._prefix()
        for info in self.zf.infolist():
            if info.filename.endswith("/"):  # a folder (not is_dir(): a name may be empty)
                continue
            name = info.filename[len(prefix) :] if prefix else info.filename
            if not safe_name(info.filename):
                self.unsafe.append(info.filename)
                continue
            if name in self.members:
                self.duplicates.append(name)
            self.members[name] = info

    def _prefix(self) -> str:
        """Packages zip their folder: strip the one top-level directory if all share it."""
        names = [i.filename for i in self.zf.infolist() if not i.filename.endswith("/")]
        tops = {n.split("/", 1)[0] for n in names if "/" in n}
        if len(tops) == 1 and all("/" in n for n in names):
            return tops.pop() + "/"
        return ""

    def _open(self, name: str) -> BinaryIO:
        info = self.members.get(name)
        if info is None:
            raise Unreadable(f"{name} is not in the package")
        return self.zf.open(info)  # type: ignore[return-value]

    def names(self) -> list[str]:
        return sorted(self.members)

    def exists(self, name: str) -> bool:
        return name in self.members

    def is_link(self, name: str) -> bool:
        info = self.members.get(name)
        return info is not None and stat.S_ISLNK(info.external_attr >> 16)


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise Unreadable("the public key is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise Unreadable("the public key is not an Ed25519 key")
    return key


class Result:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.facts: dict[str, object] = {}
        self.order: list[tuple[int, str]] = []  # the package's events in file order: seq, hash

    def problem(self, text: str) -> None:
        self.problems.append(text)

    @property
    def ok(self) -> bool:
        return not self.problems


KEY_ROTATION = "key_rotation"
ROTATION_STATEMENT = "haechi custody key rotation"


def rotation_statement(old: str, new: str, prev: str) -> bytes:
    """What a rotation's new key counter-signs (haechi.store.keychain.statement)."""
    doc = {"what": ROTATION_STATEMENT, "old_key_id": old, "new_key_id": new, "prev": prev}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _signed_by(public: Ed25519PublicKey, signature: object, data: bytes) -> bool:
    try:
        public.verify(base64.b64decode(str(signature or ""), validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_chain(
    lines: list[dict], trusted: dict[str, Ed25519PublicKey], known: dict[str, Ed25519PublicKey]
) -> dict[str, int]:
    """Follow the key_rotation events: each is signed by the old key and counter-signed by
    the new one, so a trusted key vouches for its successor (later events) and for its
    predecessor (earlier events). Extends ``trusted`` (from ``known``, the keys the
    package ships, or from the event itself); returns {retired key id: rotation seq}."""
    rotations = []
    for entry in lines:
        body = entry.get("_body") or {}
        if body.get("type") != KEY_ROTATION:
            continue
        data = body.get("data") or {}
        try:
            new_key = load_key(str(data["new_public_key"]).encode())
            old, new = str(data["old_key_id"]), str(data["new_key_id"])
        except (KeyError, Unreadable):
            continue
        if key_id(new_key) != new or entry.get("key_id") != old:
            continue
        if not _signed_by(
            new_key,
            data.get("counter_signature"),
            rotation_statement(old, new, str(body.get("prev"))),
        ):
            continue
        rotations.append((int(body["seq"]), old, new, new_key, entry))
    retired: dict[str, int] = {}
    changed = True
    while changed:
        changed = False
        for seq, old, new, new_key, entry in rotations:
            old_key = trusted.get(old) or known.get(old)
            if old_key is None or not _signed_by(old_key, entry.get("signature"), entry["_raw"]):
                continue
            retired[old] = seq
            if old in trusted and new not in trusted:  # the old key names its successor
                trusted[new] = new_key
                changed = True
            elif new in trusted and old not in trusted:  # the new key accepts its predecessor
                trusted[old] = old_key
                changed = True
    return retired


def check_events(
    pkg: Package,
    trusted: dict[str, Ed25519PublicKey],
    res: Result,
    known: dict[str, Ed25519PublicKey] | None = None,
) -> dict[int, dict]:
    """Hashes, signatures, order and links of the events in the package. ``trusted``: the
    public keys to check signatures with, by key id (a rotation event extends it, see
    :func:`key_chain`). The events in file order, as (seq, hash), are kept in
    ``res.order`` for check_export."""
    trusted = dict(trusted)
    events: dict[int, dict] = {}
    hashes: dict[int, str] = {}
    last = 0
    entries: list[dict] = []
    for n, line in enumerate(pkg.read(EVENTS).decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            body_text = entry["body"]
            body = json.loads(body_text)
            seq = int(body["seq"])
            entry["_body"], entry["_raw"] = body, body_text.encode("utf-8")
        except (ValueError, KeyError, TypeError):
            res.problem(f"altered: {EVENTS} line {n} is not a custody event")
            continue
        entries.append(entry)
    retired = key_chain(entries, trusted, known or {})
    signers: set[str] = set()
    for entry in entries:
        body, raw = entry["_body"], entry["_raw"]
        seq = int(body["seq"])
        digest = hashlib.sha256(raw).hexdigest()
        if digest != entry.get("hash"):
            res.problem(f"altered: custody event {seq} no longer matches its recorded hash")
        kid = str(entry.get("key_id"))
        public = trusted.get(kid)
        if public is None:
            res.problem(
                f"forged: custody event {seq} was signed by key {kid}, which is not "
                f"trusted (trusted: {', '.join(sorted(trusted))})"
            )
        elif kid in retired and seq > retired[kid]:
            res.problem(
                f"forged: custody event {seq} was signed by key {kid} after event "
                f"{retired[kid]} retired it"
            )
        elif not _signed_by(public, entry.get("signature"), raw):
            res.problem(f"forged: the signature of custody event {seq} does not verify")
        else:
            signers.add(kid)
        if seq <= last:
            res.problem(f"reordered: custody event {seq} comes after event {last}")
        if seq - 1 in hashes and body.get("prev") != hashes[seq - 1]:
            res.problem(f"broken_link: custody event {seq} does not chain to event {seq - 1}")
        last = max(last, seq)
        events[seq] = body
        hashes[seq] = digest
        res.order.append((seq, digest))
    seqs = sorted(events)
    runs, start = [], None
    for i, s in enumerate(seqs):
        start = s if start is None else start
        if i + 1 == len(seqs) or seqs[i + 1] != s + 1:
            runs.append((start, s))
            start = None
    res.facts["events"] = len(events)
    res.facts["event_runs"] = [f"{a}-{b}" if a != b else f"{a}" for a, b in runs]
    final = events[max(events)] if events else {}
    signer = next((str(e.get("key_id")) for e in entries if e["_body"] is final), None)
    res.facts["key_id"] = signer
    res.facts["key_ids"] = sorted(signers)
    return events


def check_export(
    manifest_bytes: bytes, manifest: dict, events: dict[int, dict], res: Result
) -> None:
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    package_id = manifest.get("package_id")
    exports = [
        e
        for e in events.values()
        if e.get("type") == "export" and (e.get("data") or {}).get("package_id") == package_id
    ]
    if not exports:
        res.problem("unattested: no signed export event in the package records this package")
        return
    export = exports[-1]
    res.facts["export_event"] = export.get("seq")
    res.facts["exported_at"] = export.get("at")
    res.facts["exported_by"] = export.get("actor")
    if (export.get("data") or {}).get("manifest_sha256") != digest:
        res.problem(f"altered: {MANIFEST} is not the manifest the signed export event recorded")
    if export.get("seq") != max(events):
        res.problem("altered: events were added to the package after its export event")
    shipped = [(seq, h) for seq, h in res.order if seq != export.get("seq")]
    check_shipped(shipped, (export.get("data") or {}).get("events"), res)


MAX_LISTED = 50_000_000  # events an export event may list: refuse anything absurd


def runs(seqs: list[int]) -> str:
    """Sequence numbers as runs: [1, 2, 3, 5, 9, 10] -> "1-3,5,9-10"."""
    parts: list[str] = []
    start = prev = None
    for s in seqs:
        if start is not None and s == prev + 1:  # type: ignore[operator]
            prev = s
            continue
        if start is not None:
            parts.append(f"{start}-{prev}" if start != prev else f"{start}")
        start = prev = s
    if start is not None:
        parts.append(f"{start}-{prev}" if start != prev else f"{start}")
    return ",".join(parts)


def parse_runs(text: str) -> list[tuple[int, int]]:
    """The inverse of :func:`runs`, bounded; raises ValueError on anything else."""
    out: list[tuple[int, int]] = []
    total = 0
    for part in filter(None, text.split(",")):
        a, _, b = part.partition("-")
        lo, hi = int(a), int(b or a)
        if lo < 1 or hi < lo or len(a) > 18 or len(b) > 18:
            raise ValueError(part)
        total += hi - lo + 1
        if total > MAX_LISTED:
            raise ValueError("too many events")
        out.append((lo, hi))
    return out


def _seq_runs_text(seqs: list[int], most: int = 20) -> str:
    text = runs(seqs).replace("-", "–").split(",")
    more = f" and {len(text) - most} more runs" if len(text) > most else ""
    return ", ".join(text[:most]) + more


def check_shipped(shipped: list[tuple[int, str]], listed: object, res: Result) -> None:
    """The events before the export event, in file order, against the list the export
    event signed: name every event missing, added or moved."""
    if listed is None:
        res.notes.append(
            "the export event does not list the events shipped (a package made by an "
            "older haechi): an event removed from custody/events.jsonl cannot be detected"
        )
        return
    try:
        assert isinstance(listed, dict)
        ranges = parse_runs(str(listed["seqs"]))
        want_count, want_digest = int(listed["count"]), str(listed["sha256"])
    except (AssertionError, KeyError, TypeError, ValueError):
        res.problem("altered: the export event's list of shipped events cannot be read")
        return
    want: set[int] = set()
    for lo, hi in ranges:
        want.update(range(lo, hi + 1))
    present = [seq for seq, _h in shipped]
    have = set(present)
    missing = sorted(want - have)
    added = sorted(have - want)
    if missing:
        res.problem(
            f"missing: custody event(s) {_seq_runs_text(missing)} were shipped with this "
            f"package (its signed export event lists them) but are not in {EVENTS}"
        )
    if added:
        res.problem(
            f"added: custody event(s) {_seq_runs_text(added)} are in {EVENTS} but the "
            "signed export event does not list them"
        )
    if present != sorted(present):
        res.problem(f"reordered: the events in {EVENTS} are not in the order they were shipped")
    digest = hashlib.sha256()
    for seq, h in shipped:
        digest.update(f"{seq} {h}\n".encode())
    if (
        not missing
        and not added
        and (digest.hexdigest() != want_digest or len(shipped) != want_count)
    ):
        res.problem(
            f"altered: the events in {EVENTS} are not the ones the export event lists "
            "(their digest differs)"
        )
    res.facts["events_listed_by_export"] = len(want)


def check_files(pkg: Package, manifest: dict, events: dict[int, dict], res: Result) -> None:
    attested = {
        (e.get("data") or {}).get("sha256") for e in events.values() if e.get("type") == "capture"
    }
    listed = set()
    checked_bytes = 0
    for entry in manifest.get("files", []):
        name, want, size = entry.get("path", ""), entry.get("sha256"), int(entry.get("size", -1))
        listed.add(name)
        if not safe_name(name):
            res.problem(f"refused: the manifest names an unsafe path {name!r}")
            continue
        if not pkg.exists(name):
            res.problem(f"missing: {name} is listed in the manifest but not in the package")
            continue
        if pkg.is_link(name):
            res.problem(f"refused: {name} is a symbolic link")
            continue
        got, got_size = pkg.digest(name, max(size, 0))
        checked_bytes += got_size
        if got_size != size or got != want:
            res.problem(f"altered: {name} (SHA-256 {got}, the manifest says {want})")
        if str(entry.get("role", "")).startswith("original") and want not in attested:
            res.problem(f"unattested: {name} has no signed capture event with its SHA-256")
    for name in pkg.names():
        if name not in listed and name not in UNLISTED:
            res.problem(f"unexpected: {name} is in the package but not in the manifest")
    if isinstance(pkg, Zip):
        for name in pkg.duplicates:
            res.problem(f"refused: {name} appears twice in the zip")
        for name in pkg.unsafe:
            res.problem(f"refused: the zip holds an unsafe path {name!r}")
    res.facts["files"] = len(listed)
    res.facts["bytes_checked"] = checked_bytes


def _source_bytes(raw: str) -> bytes:
    """A message's bytes as its source file holds them: a byte that was not UTF-8 there
    stands in the record as a lone surrogate (Python's surrogateescape), written as a
    JSON \\u escape."""
    try:
        return raw.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate the source wrote as a \\u escape itself
        return raw.encode("utf-8", "surrogatepass")


def check_messages(pkg: Package, manifest: dict, res: Result) -> None:
    """Each message's verbatim JSON against its hash, and, where the package holds the
    source's result.json, against the very bytes at its offset in that captured file."""
    name = manifest.get("messages_file")
    if not name or not pkg.exists(name):
        return
    sources = {
        f.get("sha256"): f.get("path")
        for f in manifest.get("files", [])
        if str(f.get("role", "")).startswith("original")
    }
    count = in_source = 0
    for n, line in enumerate(pkg.read(name).decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            raw = _source_bytes(rec["raw"])
        except (ValueError, KeyError, TypeError, AttributeError):
            res.problem(f"altered: {name} line {n} is not a message record")
            continue
        where = rec.get("url") or f"{rec.get('chat')} message {rec.get('message_id')}"
        if hashlib.sha256(raw).hexdigest() != rec.get("raw_sha256"):
            res.problem(f"altered: message record {n} ({where}) no longer matches its hash")
        source = sources.get(rec.get("source_root_sha256"))
        offset = rec.get("raw_offset")
        if source and isinstance(offset, int) and pkg.exists(source):
            if pkg.read_at(source, offset, len(raw)) != raw:
                res.problem(f"altered: message record {n} ({where}) is not what {source} holds")
            in_source += 1
        count += 1
    res.facts["messages"] = count
    res.facts["messages_checked_in_source"] = in_source


def check_sums(pkg: Package, res: Result) -> None:
    if not pkg.exists(SUMS):
        res.problem(f"missing: {SUMS}")
        return
    for line in pkg.read(SUMS).decode("utf-8").splitlines():
        if not line.strip():
            continue
        want, _, name = line.partition("  ")
        if name == EVENTS:  # the event log is checked through its signatures; cross-check
            got, _ = pkg.digest(name, MAX_TEXT)
            if got != want:
                res.problem(f"altered: {EVENTS} does not match {SUMS}")


def shipped_keys(pkg: Package) -> dict[str, Ed25519PublicKey]:
    """The package's own public keys: custody/public_key.pem (the key that signed the
    export) and custody/public_keys/*.pem (every key that signed an event in it)."""
    keys = {}
    for name in [PUBLIC_KEY, *(n for n in pkg.names() if n.startswith(PUBLIC_KEYS))]:
        if name.endswith(".pem") and pkg.exists(name):
            public = load_key(pkg.read(name, 64 * 1024))
            keys[key_id(public)] = public
    return keys


def verify(path: str, public_key_path: str | list[str] | None = None) -> Result:
    res = Result()
    try:
        pkg: Package = Zip(path) if os.path.isfile(path) else Folder(path)
        if isinstance(pkg, Folder) and not os.path.isdir(path):
            raise Unreadable(f"{path} is neither a package folder nor a zip file")
        for needed in (MANIFEST, EVENTS, PUBLIC_KEY):
            if not pkg.exists(needed):
                raise Unreadable(
                    f"{needed} is missing: this is not a complete haechi evidence package"
                )
        manifest_bytes = pkg.read(MANIFEST)
        try:
            manifest = json.loads(manifest_bytes.decode("utf-8"))
        except ValueError:
            raise Unreadable(f"{MANIFEST} is not valid JSON") from None
        if manifest.get("format") != FORMAT:
            raise Unreadable(f"{MANIFEST} is not a haechi evidence package manifest")
        shipped = shipped_keys(pkg)
        given = [public_key_path] if isinstance(public_key_path, str) else public_key_path
        if given:
            trusted = {}
            for one in given:
                with open(one, "rb") as fh:
                    public = load_key(fh.read())
                trusted[key_id(public)] = public
            if pkg.read(PUBLIC_KEY).strip() not in {pem_bytes(k) for k in trusted.values()}:
                res.notes.append(
                    "the key given differs from the package's own key; the given key was used"
                )
            events = check_events(pkg, trusted, res, known=shipped)
        else:
            events = check_events(pkg, shipped, res)
        if not events:
            raise Unreadable(f"{EVENTS} holds no custody events")
        check_export(manifest_bytes, manifest, events, res)
        check_files(pkg, manifest, events, res)
        check_messages(pkg, manifest, res)
        check_sums(pkg, res)
        res.facts["case"] = (manifest.get("case") or {}).get("ref")
        res.facts["package_id"] = manifest.get("package_id")
        head = (manifest.get("custody") or {}).get("head_before_export") or {}
        res.facts["log_head_before_export"] = f"{head.get('seq')} {head.get('hash')}"
    except Unreadable as exc:
        res.facts["unreadable"] = str(exc)
    except (OSError, UnicodeDecodeError) as exc:
        res.facts["unreadable"] = f"the package cannot be read: {exc}"
    return res


def pem_bytes(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).strip()


# -- the report in Korean (--lang ko) ---------------------------------------------------
# The checks above speak English (what --json and `haechi verify-package` return); a person
# reading in Korean gets every line of the printed report in Korean, from these patterns.
# They live here because this file must run with Python and `cryptography` only.
KO_WORDS = {
    "OK": "정상",
    "FAILED": "실패",
    "PROBLEM": "문제",
    "NOTE": "참고",
    "CANNOT VERIFY": "검증할 수 없음",
}
KO_PATTERNS = [
    (
        r"altered: (\S+) line (\d+) is not a custody event",
        "변조: {0}의 {1}번째 줄이 관리 연속성 기록이 아닙니다",
    ),
    (
        r"altered: custody event (\d+) no longer matches its recorded hash",
        "변조: 관리 연속성 기록 {0}번이 기록된 해시와 더 이상 일치하지 않습니다",
    ),
    (
        r"forged: custody event (\d+) was signed by key (\S+), which is not trusted "
        r"\(trusted: ([^)]*)\)",
        "위조: 관리 연속성 기록 {0}번은 신뢰하지 않는 키 {1}로 서명되었습니다 (신뢰하는 키: {2})",
    ),
    (
        r"forged: custody event (\d+) was signed by key (\S+) after event (\d+) retired it",
        "위조: 관리 연속성 기록 {0}번은 기록 {2}번에서 폐기된 키 {1}로 그 뒤에 서명되었습니다",
    ),
    (
        r"forged: the signature of custody event (\d+) does not verify",
        "위조: 관리 연속성 기록 {0}번의 서명이 검증되지 않습니다",
    ),
    (
        r"reordered: custody event (\d+) comes after event (\d+)",
        "순서 변경: 관리 연속성 기록 {0}번이 {1}번 뒤에 있습니다",
    ),
    (
        r"broken_link: custody event (\d+) does not chain to event (\d+)",
        "사슬 끊김: 관리 연속성 기록 {0}번이 {1}번과 이어지지 않습니다",
    ),
    (
        r"unattested: no signed export event in the package records this package",
        "증명 없음: 이 패키지를 기록한 서명된 내보내기 기록이 패키지에 없습니다",
    ),
    (
        r"altered: (\S+) is not the manifest the signed export event recorded",
        "변조: {0}은(는) 서명된 내보내기 기록이 기록한 매니페스트가 아닙니다",
    ),
    (
        r"altered: events were added to the package after its export event",
        "변조: 내보내기 기록 뒤에 기록이 패키지에 추가되었습니다",
    ),
    (
        r"the export event does not list the events shipped .*",
        "내보내기 기록에 함께 보낸 기록의 목록이 없습니다 (이전 해치가 만든 패키지). "
        "custody/events.jsonl에서 지운 기록은 찾아낼 수 없습니다",
    ),
    (
        r"altered: the export event's list of shipped events cannot be read",
        "변조: 내보내기 기록의 함께 보낸 기록 목록을 읽을 수 없습니다",
    ),
    (
        r"missing: custody event\(s\) (.+) were shipped with this package .* but are not in (\S+)",
        "누락: 관리 연속성 기록 {0}번은 이 패키지와 함께 보냈으나 (서명된 내보내기 기록에 "
        "있음) {1}에 없습니다",
    ),
    (
        r"added: custody event\(s\) (.+) are in (\S+) but the signed export event does not "
        r"list them",
        "추가됨: 관리 연속성 기록 {0}번이 {1}에 있으나 서명된 내보내기 기록에는 없습니다",
    ),
    (
        r"reordered: the events in (\S+) are not in the order they were shipped",
        "순서 변경: {0}의 기록이 보낸 순서와 다릅니다",
    ),
    (
        r"altered: the events in (\S+) are not the ones the export event lists .*",
        "변조: {0}의 기록이 내보내기 기록에 적힌 것과 다릅니다 (요약값이 다름)",
    ),
    (
        r"refused: the manifest names an unsafe path (.+)",
        "거부: 매니페스트에 안전하지 않은 경로 {0}이(가) 있습니다",
    ),
    (
        r"missing: (\S+) is listed in the manifest but not in the package",
        "누락: {0}은(는) 매니페스트에 있으나 패키지에 없습니다",
    ),
    (r"refused: (\S+) is a symbolic link", "거부: {0}은(는) 심볼릭 링크입니다"),
    (
        r"altered: (\S+) \(SHA-256 (\S+), the manifest says (\S+)\)",
        "변조: {0} (SHA-256 {1}, 매니페스트에는 {2})",
    ),
    (
        r"unattested: (\S+) has no signed capture event with its SHA-256",
        "증명 없음: {0}의 SHA-256을 담은 서명된 보존 기록이 없습니다",
    ),
    (
        r"unexpected: (\S+) is in the package but not in the manifest",
        "예상 밖: {0}은(는) 패키지에 있으나 매니페스트에 없습니다",
    ),
    (r"refused: (\S+) appears twice in the zip", "거부: {0}이(가) zip에 두 번 있습니다"),
    (
        r"refused: the zip holds an unsafe path (.+)",
        "거부: zip에 안전하지 않은 경로 {0}이(가) 있습니다",
    ),
    (
        r"altered: (\S+) line (\d+) is not a message record",
        "변조: {0}의 {1}번째 줄이 메시지 기록이 아닙니다",
    ),
    (
        r"altered: message record (\d+) \((.+)\) no longer matches its hash",
        "변조: 메시지 기록 {0} ({1})이(가) 해시와 더 이상 일치하지 않습니다",
    ),
    (
        r"altered: message record (\d+) \((.+)\) is not what (\S+) holds",
        "변조: 메시지 기록 {0} ({1})이(가) {2}에 든 것과 다릅니다",
    ),
    (r"missing: (\S+)", "누락: {0}"),
    (r"altered: (\S+) does not match (\S+)", "변조: {0}이(가) {1}와 일치하지 않습니다"),
    (
        r"the key given differs from the package's own key; the given key was used",
        "주어진 키가 패키지 자체의 키와 다릅니다. 주어진 키로 검증했습니다",
    ),
]


def korean(line: str) -> str:
    """A problem or note of the report in Korean (as it is when no pattern knows it)."""
    import re

    for pattern, template in KO_PATTERNS:
        found = re.fullmatch(pattern, line)
        if found:
            return template.format(*found.groups())
    return line


def language(argv_lang: str | None) -> str:
    """--lang, else the locale (LC_ALL, LC_MESSAGES, LANG starting with ko), else English."""
    if argv_lang in ("en", "ko"):
        return argv_lang
    for name in ("HAECHI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def summary(res: Result, lang: str) -> str:
    f = res.facts
    runs = ", ".join(str(r) for r in f.get("event_runs") or [])  # type: ignore[attr-defined]
    if lang == "ko":
        verdict = KO_WORDS["OK"] if res.ok else KO_WORDS["FAILED"]
        return (
            f"{verdict}: 사건 {f.get('case')}, 파일 {f.get('files')}개 "
            f"({f.get('bytes_checked')} 바이트), 서명된 관리 연속성 기록 {f.get('events')}건 "
            f"(키 {f.get('key_id')}, 기록 {runs}); 내보내기 기록 {f.get('export_event')}번 "
            f"({f.get('exported_at')}, {f.get('exported_by')})"
        )
    verdict = "OK" if res.ok else "FAILED"
    return (
        f"{verdict}: case {f.get('case')}, {f.get('files')} files "
        f"({f.get('bytes_checked')} bytes) and {f.get('events')} signed custody events "
        f"(key {f.get('key_id')}, events {runs}); export event {f.get('export_event')} "
        f"at {f.get('exported_at')} by {f.get('exported_by')}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a haechi evidence package offline.")
    parser.add_argument("package", nargs="?", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--public-key",
        action="append",
        help="verify with this PEM public key instead (repeatable; the keys before or "
        "after a key rotation recorded in the package follow from it)",
    )
    parser.add_argument(
        "--lang", choices=("en", "ko"), help="language of the report (default: the locale)"
    )
    args = parser.parse_args(argv)
    lang = language(args.lang)
    res = verify(args.package, args.public_key)
    unreadable = res.facts.get("unreadable")
    if args.json:
        out = {
            "ok": res.ok and not unreadable,
            "problems": res.problems,
            "notes": res.notes,
            **res.facts,
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
    elif unreadable:
        label = KO_WORDS["CANNOT VERIFY"] if lang == "ko" else "CANNOT VERIFY"
        print(f"{label}: {unreadable}")
    else:
        say = korean if lang == "ko" else (lambda line: line)
        problem = KO_WORDS["PROBLEM"] if lang == "ko" else "PROBLEM"
        note = KO_WORDS["NOTE"] if lang == "ko" else "NOTE"
        for line in res.problems:
            print(f"{problem:8} {say(line)}")
        for line in res.notes:
            print(f"{note:8} {say(line)}")
        print(summary(res, lang))
    if unreadable:
        return 2
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
