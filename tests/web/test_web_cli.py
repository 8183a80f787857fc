"""``haechi user`` through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import haechi_here


def _user(home: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("HAECHI_")}
    env["HAECHI_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "haechi.cli.main", "user", *args],
        input=(password + "\n") if password is not None else None,
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def test_user_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"
    haechi_here("init", str(home), check=True)  # set-up: in this process
    # A role that may reveal originals needs a recorded reason from the CLI (or a second
    # administrator on the web).
    unreasoned = _user(home, "add", "lee", "--role", "investigator", "--password-stdin",
                       password="a long passphrase")  # fmt: skip
    assert unreasoned.returncode != 0 and "--reason" in unreasoned.stderr, unreasoned.stderr
    ok = _user(home, "add", "lee", "--role", "investigator", "--password-stdin",
               "--reason", "joins the cyber unit, ticket 2026-118",
               password="a long passphrase")  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    bad = _user(home, "add", "kim", "--role", "boss", "--password-stdin", password="x" * 12)
    assert bad.returncode != 0 and "Unknown role" in bad.stderr and "Traceback" not in bad.stderr
    short = _user(home, "add", "kim", "--role", "auditor", "--password-stdin", password="short")
    assert short.returncode != 0 and "at least 10" in short.stderr
    again = _user(home, "add", "lee", "--role", "auditor", "--password-stdin",
                  password="another passphrase")  # fmt: skip
    assert again.returncode != 0 and "already exists" in again.stderr
    assert _user(home, "disable", "lee").returncode == 0
    listed = json.loads(_user(home, "list", "--json").stdout)
    assert [(u["username"], u["role"], u["disabled"]) for u in listed] == [
        ("lee", "investigator", True)
    ]
    assert _user(home, "enable", "lee").returncode == 0
    assert _user(home, "reset-password", "lee", "--password-stdin",
                 "--reason", "forgot it, confirmed in person",
                 password="a new long passphrase").returncode == 0  # fmt: skip
    token = _user(home, "token", "lee", "--name", "nightly export").stdout.strip()
    assert token.startswith("hch_") and len(token) > 40
    missing = _user(home, "disable", "nobody")
    assert missing.returncode != 0 and "no user" in missing.stderr
