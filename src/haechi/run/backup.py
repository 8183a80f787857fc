"""``haechi backup DEST`` and ``haechi restore SRC HOME``: a whole data directory, online.

The database is copied as one consistent snapshot (:mod:`haechi.run.dbsnapshot`) while
the web server or an ingest keeps writing; the vault objects that snapshot records are
copied after it (objects are write-once and published before the rows naming them
commit, so every one of them is there; objects stored later belong to the next backup).
Then ``keys/`` (the vault key and the signing key: a backup is as sensitive as the data
directory), ``haechi.toml``, derived files, indexes and the other folders. ``MANIFEST.json``
lists every file with its SHA-256 and size and the custody head of the snapshot;
``MANIFEST.json.sig`` is its Ed25519 signature by the custody key. The backup itself is
recorded as an ``export`` custody event (``what: backup``) in the live store.

Restore checks every file against the manifest before it writes anything, into a new (or
empty) data directory, and the database into the URL given (PostgreSQL: an empty one).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url

from haechi import __version__
from haechi.app import App, private_files
from haechi.config import CONFIG_NAME, DB_NAME, sqlite_url
from haechi.domain import DataDirError, IntegrityError
from haechi.i18n import t_
from haechi.run import dbsnapshot
from haechi.store import custody
from haechi.store.custody import utc_now
from haechi.store.keys import load_public

FORMAT = "haechi-backup"
MANIFEST, SIGNATURE = "MANIFEST.json", "MANIFEST.json.sig"
# Never copied: scratch space, the live database (its snapshot is), the vault (by list),
# the writers' turn file (haechi.store.writer_turn).
_SKIP = {"tmp", "vault", DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", f"{DB_NAME}-journal",
         f"{DB_NAME}-writers"}  # fmt: skip
CHUNK = 1 << 20


@dataclass
class BackupResult:
    path: Path
    database: str  # sqlite / pg_dump / copy
    files: int
    bytes: int
    objects: int
    custody_head: int
    seconds: float
    event_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def _copy(src: Path, dst: Path) -> tuple[str, int]:
    """Copy one file (mode 0600), hashing what was written; returns (sha256, size)."""
    dst.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
        while block := fin.read(CHUNK):
            digest.update(block)
            fout.write(block)
            size += len(block)
        fout.flush()
        os.fsync(fout.fileno())
    return digest.hexdigest(), size


def _hash(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


_HEAD_SQL = "SELECT seq, hash FROM custody_events ORDER BY seq DESC LIMIT 1"


def _head(row: Any) -> dict[str, Any]:
    return {"seq": int(row[0]), "hash": str(row[1])} if row else {"seq": 0, "hash": None}


def backup(app: App, dest: Path, *, pg_method: str = "auto") -> BackupResult:
    started = time.monotonic()
    private_files()
    dest = dest.expanduser().resolve()
    if dest.exists() and any(dest.iterdir()):
        raise DataDirError(
            t_("{dest} exists and is not empty: give a new folder for the backup.", dest=dest)
        )
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings = app.settings
    shas: list[str] = []
    head: dict[str, Any] = {}
    if app.db.is_sqlite:
        live = Path(str(make_url(settings.database_url).database))
        dbsnapshot.sqlite_copy(live, dest / dbsnapshot.SQLITE_FILE)
        snap = dbsnapshot.Snapshot(kind="sqlite", files=[dbsnapshot.SQLITE_FILE])
        with sqlite3.connect(dest / dbsnapshot.SQLITE_FILE) as lite:
            shas = [r[0] for r in lite.execute("SELECT sha256 FROM blobs ORDER BY sha256")]
            head = _head(lite.execute(_HEAD_SQL).fetchone())
            snap.revisions = sorted(
                r[0] for r in lite.execute("SELECT version_num FROM alembic_version")
            )
    else:

        def read(conn: Connection) -> None:
            shas.extend(conn.execute(text("SELECT sha256 FROM blobs ORDER BY sha256")).scalars())
            head.update(_head(conn.execute(text(_HEAD_SQL)).first()))

        with dbsnapshot.pg_snapshot(settings.database_url) as conn:
            snap = dbsnapshot.pg_take(conn, settings.database_url, dest, pg_method, read)
    files: list[dict[str, Any]] = []
    for name in snap.files:
        sha, size = _hash(dest / name)
        files.append({"path": name, "sha256": sha, "size": size, "role": "database"})
    for sha in shas:  # the objects the snapshot records, as stored (encrypted or not)
        rel = Path("vault", "objects", sha[:2], sha[2:4], sha)
        got, size = _copy(settings.home / rel, dest / rel)
        files.append({"path": rel.as_posix(), "sha256": got, "size": size, "role": "vault"})
    for path in sorted(settings.home.rglob("*")):
        rel = path.relative_to(settings.home)
        if rel.parts[0] in _SKIP or path.is_symlink() or not path.is_file():
            continue
        if path.suffix == ".sqlite":  # an index database, maybe being written
            target = dest / rel
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            dbsnapshot.sqlite_copy(path, target)
            got, size = _hash(target)
        else:
            try:
                got, size = _copy(path, dest / rel)
            except FileNotFoundError:  # removed while we listed (a temp file, an index)
                continue
        role = (
            "keys" if rel.parts[0] == "keys" else "settings" if rel.name == CONFIG_NAME else "data"
        )
        files.append({"path": rel.as_posix(), "sha256": got, "size": size, "role": role})
    manifest = {
        "format": FORMAT,
        "version": 1,
        "created_at": utc_now(),
        "tool_version": __version__,
        "host": settings.host,
        "operator": settings.operator,
        "home": str(settings.home),
        "database": {
            "kind": snap.kind,
            "dialect": app.db.dialect,
            "schema": snap.schema,
            "revisions": snap.revisions,
            "tables": snap.tables,
        },
        "vault_encrypted": settings.vault_encrypt,
        "custody_head": head,
        "key_id": app.signer.key_id,
        "files": files,
    }
    body = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
    (dest / MANIFEST).write_bytes(body)
    signature = {"key_id": app.signer.key_id, "signature": app.signer.sign(body)}
    (dest / SIGNATURE).write_text(json.dumps(signature) + "\n", encoding="utf-8")
    total = sum(int(f["size"]) for f in files)
    result = BackupResult(
        dest, snap.kind, len(files), total, len(shas), int(head.get("seq") or 0),
        round(time.monotonic() - started, 3),
    )  # fmt: skip
    with app.db.begin() as conn:
        result.event_seq = app.custody.append(
            conn,
            custody.EXPORT,
            f"file:{hashlib.sha256(body).hexdigest()}",
            {
                "what": "backup",
                "path": str(dest),
                "manifest_sha256": hashlib.sha256(body).hexdigest(),
                "files": len(files),
                "bytes": total,
                "database": snap.kind,
                "custody_head": head,
            },
        )
    return result


def check_backup(src: Path) -> dict[str, Any]:
    """The manifest, after checking its signature and every file it lists (named when
    missing or altered)."""
    try:
        body = (src / MANIFEST).read_bytes()
        manifest = json.loads(body)
    except (OSError, ValueError):
        raise DataDirError(
            t_("{src} is not a haechi backup (no readable {manifest}).", src=src, manifest=MANIFEST)
        ) from None
    if manifest.get("format") != FORMAT:
        raise DataDirError(t_("{path} is not a haechi backup manifest.", path=src / MANIFEST))
    problems = []
    for entry in manifest.get("files", []):
        rel = str(entry.get("path", ""))
        if rel.startswith("/") or ".." in Path(rel).parts:
            problems.append(f"refused: the manifest names an unsafe path {rel!r}")
            continue
        try:
            got, size = _hash(src / rel)
        except FileNotFoundError:
            problems.append(f"missing: {rel}")
            continue
        if got != entry.get("sha256") or size != entry.get("size"):
            problems.append(
                f"altered: {rel} (SHA-256 {got}, the manifest says {entry.get('sha256')})"
            )
    try:
        sig = json.loads((src / SIGNATURE).read_text(encoding="utf-8"))
        public = load_public(src / "keys" / "custody_ed25519.pub.pem")
        public.verify(base64.b64decode(sig["signature"], validate=True), body)
    except Exception:  # any failure: unsigned, other key, altered manifest
        problems.append(f"forged: {MANIFEST} is not signed by the backup's custody key")
    if problems:
        shown = "; ".join(problems[:10]) + (
            f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        )
        raise IntegrityError(
            t_("The backup at {src} does not match its manifest: {shown}.", src=src, shown=shown)
        )
    return manifest


def restore(src: Path, home: Path, *, database_url: str | None = None) -> dict[str, Any]:
    """Rebuild a data directory from a backup (checked first); returns the manifest."""
    private_files()
    src, home = src.expanduser().resolve(), home.expanduser().resolve()
    manifest = check_backup(src)
    db = manifest["database"]
    if home.exists() and any(home.iterdir()):
        raise DataDirError(t_("{home} is not empty: restore into a new data directory.", home=home))
    if db["kind"] == "sqlite" and database_url and not database_url.startswith("sqlite"):
        raise DataDirError(
            t_("This backup holds a SQLite database: restore it without --database-url.")
        )
    if db["kind"] != "sqlite" and not database_url:
        raise DataDirError(t_("This backup holds a PostgreSQL database: give --database-url."))
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    for entry in manifest["files"]:
        rel = entry["path"]
        if entry.get("role") == "database":
            continue
        _copy(src / rel, home / rel)
        if rel.startswith("vault/objects/"):
            os.chmod(home / rel, 0o400)
    if db["kind"] == "sqlite":
        _copy(src / dbsnapshot.SQLITE_FILE, home / DB_NAME)
        url = sqlite_url(home)
    else:
        assert database_url is not None
        dbsnapshot.pg_put(db, src, database_url)
        url = database_url
    _point_settings(home / CONFIG_NAME, url, sqlite=db["kind"] == "sqlite")
    return manifest


def _point_settings(path: Path, url: str, *, sqlite: bool) -> None:
    """The restored settings name the restored database."""
    if not path.exists():
        return
    text_ = path.read_text(encoding="utf-8")
    line = "# url = (default: SQLite in haechi.db)" if sqlite else f'url = "{url}"'
    new, n = re.subn(r"(?m)^#?\s*url = .*$", line.replace("\\", "\\\\"), text_, count=1)
    if not n:
        new = text_.replace("[database]\n", f"[database]\n{line}\n", 1)
    path.write_text(new, encoding="utf-8")
    os.chmod(path, 0o600)


__all__ = ["BackupResult", "backup", "check_backup", "restore"]
