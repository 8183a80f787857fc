"""The application context every service receives: settings, database, vault, custody.

CLI, web and API build one :class:`App` and call the same services with it.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, replace
from pathlib import Path

from haechi.config import DB_NAME, Settings, load_settings, render_config, sqlite_url
from haechi.domain import DataDirError
from haechi.i18n import t_
from haechi.store import custody
from haechi.store.custody import CustodyContext, CustodyLog
from haechi.store.db import Database
from haechi.store.keys import (
    Signer,
    Verifier,
    generate_keypair,
    load_signer,
    load_verifier,
    retired_public_keys,
)
from haechi.store.vault import Vault
from haechi.store.vaultcrypto import generate_key, load_key, save_key


@dataclass
class App:
    settings: Settings
    db: Database
    vault: Vault
    signer: Signer
    custody: CustodyLog

    def verifier(self, extra_public_keys: list[Path] | None = None) -> Verifier:
        """The current public key, the keys it replaced (``haechi keys rotate``) and any
        key given."""
        retired = retired_public_keys(self.settings.keys_dir)
        paths = [self.settings.public_key_path, *retired, *(extra_public_keys or [])]
        return load_verifier(paths)

    def close(self) -> None:
        self.db.dispose()


def _vault_key(settings: Settings) -> bytes | None:
    if settings.vault_key_path.exists():
        return load_key(settings.vault_key_path)
    if settings.vault_encrypt:
        raise DataDirError(
            t_(
                "Vault encryption is on but there is no key at {vault_key_path}.",
                vault_key_path=settings.vault_key_path,
            )
        )
    return None


def private_files() -> None:
    """Everything this process creates is for its owner only (0700 folders, 0600 files),
    whatever umask it was started with: the data directory holds originals of abuse
    material, and the database, indexes, derived files, logs and exports quote them."""
    os.umask(0o077)


def _tighten(settings: Settings) -> None:
    """Make an existing data directory private again (one made by an older haechi, or
    widened by hand): the folder and its sub-folders 0700, its own files and keys 0600.
    The folder's mode alone already keeps others out of everything below it."""
    home = settings.home
    os.chmod(home, 0o700)
    for entry in os.scandir(home):
        if entry.is_symlink():
            continue
        if entry.is_dir():
            os.chmod(entry.path, 0o700)
        elif entry.is_file():
            os.chmod(entry.path, 0o600)
    for key in settings.keys_dir.iterdir():
        if key.is_file() and not key.is_symlink():
            os.chmod(key, 0o600)


def _create_private(path: Path) -> None:
    """Create an empty file 0600 before a library creates it with its own mode (SQLite
    gives its -wal and -shm files the database file's mode)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.fchmod(fd, 0o600)
    os.close(fd)


def open_app(home: Path | None = None, *, check_schema: bool = True) -> App:
    """Open an initialised data directory."""
    private_files()
    settings = load_settings(home)
    if not settings.home.is_dir():
        raise DataDirError(
            t_("No haechi data directory at {home}: run `haechi init {home}`.", home=settings.home)
        )
    if not settings.config_path.exists():
        raise DataDirError(
            t_(
                "{home} is not a haechi data directory (no haechi.toml): run `haechi init`.",
                home=settings.home,
            )
        )
    check_operator(settings)
    db = Database(settings.database_url)
    if check_schema:
        db.check_schema()
    key = _vault_key(settings)
    # The key is passed even when encryption is off now: objects encrypted while it was on
    # must stay readable and verifiable; ``encrypt`` only decides how new objects are kept.
    vault = Vault(settings.vault_dir, key=key, encrypt=settings.vault_encrypt)
    signer = load_signer(settings.signing_key_path)
    log = CustodyLog(signer, CustodyContext(actor=settings.operator, host=settings.host))
    return App(settings, db, vault, signer, log)


def check_operator(settings: Settings) -> None:
    """Where several people share a data directory ([custody] operators), every command
    names which of them is acting: custody events and court reports carry that name."""
    names = settings.operators
    if not names:
        return
    if settings.operator_source == "env" and settings.operator not in names:
        raise DataDirError(
            t_(
                "{operator!r} is not one of the operators of {home} "
                "({names}): name yourself as listed in [custody] operators.",
                operator=settings.operator,
                home=settings.home,
                names=", ".join(names),
            )
        )
    if len(names) > 1 and settings.operator_source != "env":
        raise DataDirError(
            t_(
                "Several people operate {home} ({names}): say who you are "
                "with `haechi --operator NAME ...` (or HAECHI_OPERATOR).",
                home=settings.home,
                names=", ".join(names),
            )
        )


def init_home(
    home: Path,
    *,
    database_url: str | None = None,
    encrypt: bool | None = None,
    operator: str | None = None,
) -> App:
    """Create (or complete) a data directory; safe to run again on an existing one.

    ``operator``: the person a new directory's settings name ([custody] operator); an
    existing directory's settings are never changed by it.

    ``encrypt``: None keeps an existing directory's choice and turns vault encryption
    on for a new one (unless ``HAECHI_VAULT_ENCRYPT=0`` says otherwise)."""
    private_files()
    home = home.expanduser().resolve()
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        probe = home / ".haechi-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
            raise DataDirError(
                t_("Cannot write to {home}: the directory is read-only.", home=home)
            ) from exc
        if exc.errno == errno.ENOSPC:
            raise DataDirError(t_("The disk holding {home} is full.", home=home)) from exc
        raise DataDirError(
            t_(
                "Cannot create the data directory {home}: {strerror}.",
                home=home,
                strerror=exc.strerror,
            )
        ) from exc
    settings = load_settings(home)
    if database_url and settings.database_url != database_url:
        settings = replace(settings, database_url=database_url)
    fresh = not settings.config_path.exists()
    if encrypt is None:  # new data directories encrypt their vault unless told not to
        told = "HAECHI_VAULT_ENCRYPT" in os.environ
        encrypt = (fresh and not told) or settings.vault_encrypt
    if fresh or encrypt:  # an existing directory's choice is changed in haechi.toml only
        settings = replace(settings, vault_encrypt=bool(encrypt))
    if fresh:
        _create_private(settings.config_path)
        settings.config_path.write_text(
            render_config(settings, operator=operator), encoding="utf-8"
        )
        if operator and settings.operator_source == "login":  # --operator/env still win
            settings = replace(settings, operator=operator, operator_source="file")
    settings.keys_dir.mkdir(mode=0o700, exist_ok=True)
    settings.vault_dir.mkdir(mode=0o700, exist_ok=True)
    if settings.database_url == sqlite_url(home):
        _create_private(home / DB_NAME)
    if not settings.signing_key_path.exists():
        generate_keypair(settings.signing_key_path, settings.public_key_path)
    if settings.vault_encrypt and not settings.vault_key_path.exists():
        save_key(settings.vault_key_path, generate_key())
    db = Database(settings.database_url)
    db.migrate()
    db.dispose()
    _tighten(settings)
    app = open_app(home)
    with app.db.begin() as conn:
        has_init = conn.exec_driver_sql(
            "SELECT 1 FROM custody_events WHERE event_type = 'init' LIMIT 1"
        ).first()
        if not has_init:
            app.custody.append(
                conn,
                custody.INIT,
                app.signer.key_id,
                {
                    "home": str(home),
                    "public_key_id": app.signer.key_id,
                    "vault_encrypted": settings.vault_encrypt,
                    "database": settings.database_url.split("://", 1)[0],
                },
            )
    return app
