"""Settings: defaults, then the data directory's ``haechi.toml``, then the environment.

A data directory ("home") holds everything one installation needs::

    HOME/haechi.toml          settings (this module reads it)
    HOME/haechi.db            the SQLite database (default store)
    HOME/vault/               content-addressed evidence files
    HOME/keys/                custody signing key pair, optional vault key

Settings are validated when they are loaded, so a typo in the file fails at start-up with a
sentence naming the key instead of surfacing later as a wrong default.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haechi.domain import DataDirError
from haechi.i18n import t_

CONFIG_NAME = "haechi.toml"
DB_NAME = "haechi.db"

# Environment variables we read; documented in docs/configuration.md (a test checks that).
ENV_VARS = {
    "HAECHI_HOME": "data directory",
    "HAECHI_DATABASE_URL": "SQLAlchemy URL of the database (default: SQLite in the data directory)",
    "HAECHI_OPERATOR": "the person operating, recorded in custody events (as haechi --operator)",
    "HAECHI_VAULT_ENCRYPT": "1/0: encrypt new vault objects at rest",
    "HAECHI_WORKERS": "parallel workers for hashing and analysis (default: CPU count)",
    "HAECHI_MAX_FILE_MB": "largest single file accepted into the vault, in MB",
    "HAECHI_ENGINE": "analysis engine: local (process pool, default) or ray",
    "HAECHI_RAY_ADDRESS": "address of a running Ray cluster for --engine ray",
    "HAECHI_DB_POOL_SIZE": "PostgreSQL connections each process keeps open (default 10)",
    "HAECHI_DB_MAX_OVERFLOW": "PostgreSQL connections a process may add beyond that (default 10)",
    "HAECHI_DB_POOL_TIMEOUT": "seconds a request waits for a free connection (default 30)",
    "HAECHI_INGEST_READER": "auto (default), process or inline: parse exports in a second process",
    "HAECHI_INGEST_WRITERS": "auto (default) or 1 to 8: PostgreSQL connections writing batches",
    "HAECHI_DEBUG": "1: an unexpected error shows its traceback instead of one sentence",
    "HAECHI_TELEGRAM_API_ID": "api_id of the Telegram application used by haechi watch",
    "HAECHI_TELEGRAM_API_HASH": "api_hash of the Telegram application used by haechi watch",
}

_FILE_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "database": {"url": str},
    "vault": {"encrypt": bool, "max_file_mb": int},
    "custody": {"operator": str, "operators": list},
    "run": {"workers": int, "analyze_on_ingest": bool, "engine": str},
    # Server folders whose exports investigators ingest from the browser (/sources/drop).
    "ingest": {"drop_roots": list},
    # Public page capture (haechi capture); read by haechi.collect.web_capture.settings.
    "capture": {
        "tsa_url": str,
        "tsa_ca_file": str,
        "max_page_mb": int,
        "max_media_mb": int,
        "max_total_mb": int,
        "max_media": int,
        "timeout_seconds": int,
        "chromium": str,
        "screenshot": bool,
        "pages": int,
        "page_delay_seconds": (int, float),
        "retry_after_max_seconds": (int, float),
    },
    # Live capture (haechi watch); values are checked by haechi.collect.telegram_live.settings.
    "live": {
        "api_id": int,
        "api_hash": str,
        "max_targets": int,
        "max_media_mb": int,
        "media": list,
        "backfill_limit": int,
        "requests_per_second": (int, float),
        "concurrent_downloads": int,
        "flush_messages": int,
        "flush_seconds": (int, float),
        "backoff_max_seconds": int,
        "recheck_recent": int,
        "recheck_minutes": int,
        "follow_successors": bool,
        "analyze_every_seconds": int,
    },
}
# [analyzers.<name>] tables hold each analyzer's own settings; the analyzer validates
# them when it is loaded (haechi.analyze.registry), so a typo fails at start-up.
_OPEN_SECTIONS = {"analyzers"}


def default_home() -> Path:
    env = os.environ.get("HAECHI_HOME")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".haechi"


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one data directory."""

    home: Path
    database_url: str
    vault_encrypt: bool = False
    max_file_bytes: int = 4 * 1024**3  # Telegram's own ceiling for a file is 4 GB (premium)
    operator: str = field(default_factory=lambda: unnamed(_login_name()))
    # Who may operate this data directory ([custody] operators); with two or more, every
    # command must name one of them (haechi --operator or HAECHI_OPERATOR).
    operators: tuple[str, ...] = ()
    # Where ``operator`` came from: env (--operator / HAECHI_OPERATOR), file, list, login.
    operator_source: str = "login"
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    host: str = field(default_factory=socket.gethostname)
    analyze_on_ingest: bool = True
    engine: str = "local"  # "local" (process pool) or "ray"
    analyzers: dict[str, dict[str, Any]] = field(default_factory=dict)
    live: dict[str, Any] = field(default_factory=dict)  # [live]: read by haechi watch
    # [ingest] drop_roots: folders on the server whose exports are ingested from the
    # browser (haechi.run.ingest_drop); none by default, and then the page says how.
    drop_roots: tuple[Path, ...] = ()

    @property
    def vault_dir(self) -> Path:
        return self.home / "vault"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def signing_key_path(self) -> Path:
        return self.keys_dir / "custody_ed25519.pem"

    @property
    def public_key_path(self) -> Path:
        return self.keys_dir / "custody_ed25519.pub.pem"

    @property
    def vault_key_path(self) -> Path:
        return self.keys_dir / "vault.key"

    @property
    def derived_dir(self) -> Path:
        """Files derived from evidence (safe previews, heat maps): never evidence."""
        return self.home / "derived"

    @property
    def index_dir(self) -> Path:
        """Search indexes, rebuildable from the database at any time."""
        return self.home / "indexes"

    @property
    def tmp_dir(self) -> Path:
        """Private scratch space (decrypted copies for analysis), emptied on start."""
        return self.home / "tmp"

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_NAME


def unnamed(login: str) -> str:
    """What custody events record when nobody named the person operating: the login name,
    marked as such, so a court report never shows a bare "root" as if it were a person."""
    return f"{login} (login name; no operator named)"


def login_of(name: str | None) -> str | None:
    """The login name in what the shell records when nobody named the person operating
    (:func:`unnamed`: ``root (login name; no operator named)``), else None: a page shows
    that mark in the reader's language while the stored value stays as it is."""
    mark = unnamed("")  # " (login name; no operator named)"
    if name and name.endswith(mark) and len(name) > len(mark):
        return name[: -len(mark)]
    return None


def _operator(env: Any, custody: dict[str, Any]) -> tuple[str, tuple[str, ...], str]:
    operators = custody.get("operators", [])
    if not all(isinstance(o, str) and o.strip() for o in operators):
        raise DataDirError(t_("custody.operators must be a list of names."))
    names = tuple(" ".join(o.split())[:128] for o in operators)
    given = " ".join((env.get("HAECHI_OPERATOR") or "").split())[:128]
    if given:
        return given, names, "env"
    if custody.get("operator", "").strip():
        return " ".join(custody["operator"].split())[:128], names, "file"
    if len(names) == 1:
        return names[0], names, "list"
    return unnamed(_login_name()), names, "login"


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid{os.getuid()}"


def sqlite_url(home: Path) -> str:
    return f"sqlite:///{(home / DB_NAME).resolve()}"


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse and validate ``haechi.toml``; unknown sections or keys are errors."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise DataDirError(
            t_("The settings file {path} is not valid TOML: {exc}.", path=path, exc=exc)
        ) from exc
    except PermissionError as exc:
        raise DataDirError(
            t_("The settings file {path} cannot be read: permission denied.", path=path)
        ) from exc
    for section, values in data.items():
        if section in _OPEN_SECTIONS and isinstance(values, dict):
            for name, table in values.items():
                if not isinstance(table, dict):
                    raise DataDirError(
                        t_(
                            "[{section}.{name}] in {path} must be a table.",
                            section=section,
                            name=name,
                            path=path,
                        )
                    )
            continue
        if section not in _FILE_KEYS or not isinstance(values, dict):
            raise DataDirError(
                t_(
                    "Unknown section [{section}] in {path}; known: {known}.",
                    section=section,
                    path=path,
                    known=", ".join(sorted(_FILE_KEYS)),
                )
            )
        for key, value in values.items():
            expected = _FILE_KEYS[section].get(key)
            if expected is None:
                raise DataDirError(
                    t_(
                        "Unknown setting {section}.{key} in {path}.",
                        section=section,
                        key=key,
                        path=path,
                    )
                )
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise DataDirError(
                    t_(
                        "Setting {section}.{key} in {path} has the wrong type.",
                        section=section,
                        key=key,
                        path=path,
                    )
                )
    return data


def _env_bool(name: str, value: str) -> bool:
    low = value.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off", ""}:
        return False
    raise DataDirError(t_("{name} must be 1 or 0, not {value!r}.", name=name, value=value))


def _env_int(name: str, value: str, minimum: int = 1) -> int:
    try:
        number = int(value)
    except ValueError:
        raise DataDirError(
            t_("{name} must be a whole number, not {value!r}.", name=name, value=value)
        ) from None
    if number < minimum:
        raise DataDirError(t_("{name} must be at least {minimum}.", name=name, minimum=minimum))
    return number


MAX_DROP_ROOTS = 16


def _drop_roots(values: list[Any]) -> tuple[Path, ...]:
    """[ingest] drop_roots: absolute folder paths (they need not exist yet)."""
    if len(values) > MAX_DROP_ROOTS:
        raise DataDirError(t_("ingest.drop_roots names at most {n} folders.", n=MAX_DROP_ROOTS))
    roots: list[Path] = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or "\0" in value:
            raise DataDirError(t_("ingest.drop_roots must be a list of folder paths."))
        path = Path(value.strip()).expanduser()
        if not path.is_absolute():
            raise DataDirError(t_("ingest.drop_roots: {path} is not an absolute path.", path=value))
        if path not in roots:
            roots.append(path)
    return tuple(roots)


def load_settings(home: Path | None = None) -> Settings:
    """Resolve settings: defaults < haechi.toml < environment (< CLI, applied by callers)."""
    home = (home or default_home()).expanduser().resolve()
    data = read_config_file(home / CONFIG_NAME)
    env = os.environ
    url = env.get("HAECHI_DATABASE_URL") or data.get("database", {}).get("url") or sqlite_url(home)
    encrypt = data.get("vault", {}).get("encrypt", False)
    if "HAECHI_VAULT_ENCRYPT" in env:
        encrypt = _env_bool("HAECHI_VAULT_ENCRYPT", env["HAECHI_VAULT_ENCRYPT"])
    max_mb = data.get("vault", {}).get("max_file_mb", 4096)
    if "HAECHI_MAX_FILE_MB" in env:
        max_mb = _env_int("HAECHI_MAX_FILE_MB", env["HAECHI_MAX_FILE_MB"])
    operator, operators, operator_source = _operator(env, data.get("custody", {}))
    workers = data.get("run", {}).get("workers", os.cpu_count() or 1)
    if "HAECHI_WORKERS" in env:
        workers = _env_int("HAECHI_WORKERS", env["HAECHI_WORKERS"])
    engine = env.get("HAECHI_ENGINE") or data.get("run", {}).get("engine", "local")
    if engine not in ("local", "ray"):
        raise DataDirError(
            t_("The analysis engine must be local or ray, not {engine!r}.", engine=engine)
        )
    if workers < 1 or max_mb < 1:
        raise DataDirError(t_("run.workers and vault.max_file_mb must be at least 1."))
    return Settings(
        home=home,
        database_url=url,
        vault_encrypt=bool(encrypt),
        max_file_bytes=int(max_mb) * 1024 * 1024,
        operator=operator,
        operators=operators,
        operator_source=operator_source,
        workers=int(workers),
        analyze_on_ingest=bool(data.get("run", {}).get("analyze_on_ingest", True)),
        engine=engine,
        analyzers=dict(data.get("analyzers", {})),
        live=dict(data.get("live", {})),
        drop_roots=_drop_roots(data.get("ingest", {}).get("drop_roots", [])),
    )


def render_config(settings: Settings, *, operator: str | None = None) -> str:
    """The commented settings file ``haechi init`` writes; ``operator`` names the one person
    using the directory where the caller knows it (the demo's own data directory)."""
    db_line = (
        f'url = "{settings.database_url}"'
        if settings.database_url != sqlite_url(settings.home)
        else f'# url = "postgresql+psycopg://user@host/db"  (default: SQLite in {DB_NAME})'
    )
    # Never filled in from whoever ran `haechi init`: a data directory set up by one person
    # and used by others would record the first person as the author of everything.
    operator_line = (
        f"operator = {json.dumps(operator, ensure_ascii=False)}\n"
        if operator
        else '# operator = "Hong Gil-dong"  (only where one person uses this data directory; '
        "else haechi --operator NAME)\n"
    )
    return (
        "# haechi settings. Environment variables (HAECHI_*) override these.\n"
        "[database]\n"
        f"{db_line}\n\n"
        "[vault]\n"
        f"encrypt = {'true' if settings.vault_encrypt else 'false'}  # AES-256-GCM at rest\n"
        f"max_file_mb = {settings.max_file_bytes // (1024 * 1024)}\n\n"
        "[custody]\n"
        f"{operator_line}"
        '# operators = ["Hong Gil-dong", "Seong Chun-hyang"]  (two or more: every command '
        "must name one with haechi --operator)\n\n"
        "[run]\n"
        f"workers = {settings.workers}\n"
        "analyze_on_ingest = true  # run the analyzers over new files after each ingest\n"
        'engine = "local"  # or "ray" (set HAECHI_RAY_ADDRESS for a cluster)\n\n'
        # Commented out like [analyzers.*]: a data directory that sets nothing here reads
        # the same with an older haechi, which refuses sections it does not know.
        "# [ingest]\n"
        '# drop_roots = ["/srv/haechi/drop"]  (server folders whose exports investigators '
        "ingest from the browser, /sources/drop)\n\n"
        "# Each analyzer's settings: [analyzers.<name>], e.g.\n"
        "# [analyzers.pdq]\n"
        "# enabled = true\n"
    )
