"""The application context every service receives: settings, database, vault, custody.

CLI, web and API build one :class:`App` and call the same services with it.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, replace
from pathlib import Path

from haechi.config import Settings, load_settings, render_config
from haechi.domain import DataDirError
from haechi.store import custody
from haechi.store.custody import CustodyContext, CustodyLog
from haechi.store.db import Database
from haechi.store.keys import Signer, Verifier, generate_keypair, load_signer, load_verifier
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
        return load_verifier([self.settings.public_key_path, *(extra_public_keys or [])])

    def close(self) -> None:
        self.db.dispose()


def _vault_key(settings: Settings) -> bytes | None:
    if settings.vault_key_path.exists():
        return load_key(settings.vault_key_path)
    if settings.vault_encrypt:
        raise DataDirError(
            f"Vault encryption is on but there is no key at {settings.vault_key_path}."
        )
    return None


def open_app(home: Path | None = None, *, check_schema: bool = True) -> App:
    """Open an initialised data directory."""
    settings = load_settings(home)
    if not settings.home.is_dir():
        raise DataDirError(
            f"No haechi data directory at {settings.home}: run `haechi init {settings.home}`."
        )
    if not settings.config_path.exists():
        raise DataDirError(
            f"{settings.home} is not a haechi data directory (no haechi.toml): run `haechi init`."
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
            f"{settings.operator!r} is not one of the operators of {settings.home} "
            f"({', '.join(names)}): name yourself as listed in [custody] operators."
        )
    if len(names) > 1 and settings.operator_source != "env":
        raise DataDirError(
            f"Several people operate {settings.home} ({', '.join(names)}): say who you are "
            "with `haechi --operator NAME ...` (or HAECHI_OPERATOR)."
        )


def init_home(home: Path, *, database_url: str | None = None, encrypt: bool = False) -> App:
    """Create (or complete) a data directory; safe to run again on an existing one."""
    home = home.expanduser().resolve()
    try:
        home.mkdir(parents=True, exist_ok=True)
        probe = home / ".haechi-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
            raise DataDirError(f"Cannot write to {home}: the directory is read-only.") from exc
        if exc.errno == errno.ENOSPC:
            raise DataDirError(f"The disk holding {home} is full.") from exc
        raise DataDirError(f"Cannot create the data directory {home}: {exc.strerror}.") from exc
    settings = load_settings(home)
    if database_url and settings.database_url != database_url:
        settings = replace(settings, database_url=database_url)
    if encrypt and not settings.vault_encrypt:
        settings = replace(settings, vault_encrypt=True)
    fresh = not settings.config_path.exists()
    if fresh:
        settings.config_path.write_text(render_config(settings), encoding="utf-8")
    settings.keys_dir.mkdir(mode=0o700, exist_ok=True)
    settings.vault_dir.mkdir(exist_ok=True)
    if not settings.signing_key_path.exists():
        generate_keypair(settings.signing_key_path, settings.public_key_path)
    if settings.vault_encrypt and not settings.vault_key_path.exists():
        save_key(settings.vault_key_path, generate_key())
    db = Database(settings.database_url)
    db.migrate()
    db.dispose()
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
