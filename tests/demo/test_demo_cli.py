"""`haechi demo` itself, run through the real command up to its ingest and verify steps."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from tests.helpers import haechi, haechi_here


def test_demo_ingest_and_verify_steps(tmp_path: Path) -> None:
    home = tmp_path / "demo-data"
    proc = haechi("demo", "--home", str(home), "--steps", "ingest,verify")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    titles = re.findall(r"^\d+\. (.+)$", proc.stdout, flags=re.M)
    assert titles == ["sample export", "ingest", "verify"]  # only what was asked, in order
    assert "ingested again: 0 new messages, 0 new files" in proc.stdout
    intact = re.search(r"(\d+)/(\d+) vault files intact", proc.stdout)
    assert intact and intact.group(1) == intact.group(2) and int(intact.group(1)) > 10
    with sqlite3.connect(home / "haechi.db") as conn:
        messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        verified = conn.execute(
            "SELECT count(*) FROM custody_events WHERE event_type = 'verification'"
        ).fetchone()[0]
        operators = {
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT json_extract(body, '$.actor') FROM custody_events"
            )
        }
    assert messages > 30 and verified == 1
    # the demo's custody events name a person, as a real directory's should, not the login
    assert operators == {"Demo Operator"}, operators
    assert 'operator = "Demo Operator"' in (home / "haechi.toml").read_text(encoding="utf-8")
    # the data directory the demo left verifies on its own, too (in this process)
    assert haechi_here("verify", home=home).returncode == 0


def test_demo_refuses_an_unknown_step(tmp_path: Path) -> None:
    proc = haechi_here("demo", "--home", str(tmp_path / "d"), "--steps", "ingest,verfy")
    assert proc.returncode == 2
    assert "no demo step 'verfy'" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "d").exists()  # refused before anything was made
