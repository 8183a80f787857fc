"""The real `haechi` commands for cases, notices, packages and statistics (through the
command line's entry point, in this process: exit codes, output and refusals as printed)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cases.casedata import BOT, CHANNEL, CHANNEL_URL
from tests.helpers import haechi_here as haechi


def _ok(*args: str, home: Path) -> str:
    proc = haechi(*args, home=home)
    assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    return proc.stdout


def test_case_to_notice_to_package(tmp_path: Path, demo_export: Path) -> None:
    home = tmp_path / "home"
    _ok("init", str(home), home=home)
    _ok("ingest", str(demo_export), "--no-analyze", home=home)
    case = json.loads(
        _ok("case", "create", "Bot channel", "--ref", "SEOUL-24-7", "--json", home=home)
    )
    assert case["ref"] == "SEOUL-24-7"
    _ok("case", "add-chat", "SEOUL-24-7", CHANNEL, "--url", CHANNEL_URL, home=home)
    _ok("case", "add-message", "SEOUL-24-7", "--url", f"{CHANNEL_URL}/4", home=home)
    out = _ok("case", "add-message", "SEOUL-24-7", "--chat", BOT, "--id", "2", home=home)
    bot_item = int(out.split()[1])
    _ok("case", "victim", "SEOUL-24-7", "--name", "Chelsea", "--age", "17", home=home)
    refused = haechi("notice", "draft", "SEOUL-24-7", "telegram", home=home)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "Victim V1 of case SEOUL-24-7 has no consent record for takedown" in refused.stderr
    _ok("case", "consent", "SEOUL-24-7", "V1", "takedown", "--given-by", "guardian", home=home)
    no_link = haechi(
        "notice", "draft", "SEOUL-24-7", "telegram", "--item", str(bot_item), home=home
    )
    assert no_link.returncode == 2 and f"Item {bot_item}" in no_link.stderr
    assert "no public link" in no_link.stderr and len(no_link.stderr.strip().splitlines()) == 1
    notice = json.loads(
        _ok("notice", "draft", "SEOUL-24-7", "telegram", "--lang", "ko", "--json", home=home)
    )
    assert notice["to_address"] == "stopCA@telegram.org"  # the victim is 17
    assert any(f"item {bot_item}" in w for w in notice["warnings"])
    _ok("notice", "export", str(notice["id"]), str(tmp_path / "n.eml"), home=home)
    assert b"stopCA@telegram.org" in (tmp_path / "n.eml").read_bytes()
    _ok("notice", "mark", str(notice["id"]), "sent", "--at", "2024-09-03T10:00+09:00", home=home)
    out = _ok(
        "notice", "mark", str(notice["id"]), "removed", "--at", "2024-09-03T11:30+09:00", home=home
    )
    assert "1.5 hours from sending to removal" in out
    times = json.loads(_ok("notice", "times", "--json", home=home))
    assert times[0]["recipient"] == "telegram_stopca" and times[0]["median_hours"] == 1.5
    _ok("package", "SEOUL-24-7", str(tmp_path / "pkg.zip"), "--no-pdf", home=home)
    assert json.loads(_ok("verify-package", str(tmp_path / "pkg.zip"), "--json", home=home))["ok"]
    bad = haechi("verify-package", str(tmp_path / "n.eml"), home=home)
    assert bad.returncode == 2 and "cannot verify" in bad.stdout
    stats = json.loads(
        _ok("stats", "--from", "2024-01", "--csv", str(tmp_path / "csv"), "--json", home=home)
    )
    assert stats["notices_by_recipient"]["rows"][0][0] == "telegram_stopca"
    assert (tmp_path / "csv" / "cases_per_month.csv").exists()
    shown = _ok("case", "show", "SEOUL-24-7", home=home)
    assert "Chelsea" not in shown and "V1" in shown
