"""The systemd unit docs/live.md gives for ``haechi watch run`` is one systemd accepts:
``systemd-analyze verify`` reports no unknown key and no value it cannot parse."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "live.md"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def _unit() -> str:
    found = re.search(
        r"```ini\n# /etc/systemd/system/haechi-watch\.service\n(.*?)```",
        DOC.read_text("utf-8"),
        re.S,
    )
    assert found, "docs/live.md has no haechi-watch.service unit"
    return found.group(1)


def test_the_unit_runs_the_service_and_restarts_it_only_when_that_helps() -> None:
    unit = _unit()
    assert re.search(r"^ExecStart=\S+/haechi watch run\b", unit, re.M)
    assert "Restart=on-failure" in unit and "RestartPreventExitStatus=2" in unit
    assert "KillSignal=SIGTERM" in unit and "UMask=0077" in unit


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # The program and the account exist only where haechi is installed: stand-ins here.
    unit = re.sub(r"^ExecStart=\S+", "ExecStart=/bin/true", _unit(), flags=re.M)
    unit = re.sub(r"^(User|Group)=haechi$", r"\1=root", unit, flags=re.M)
    path = tmp_path / "haechi-watch.service"
    path.write_text(unit, "utf-8")
    assert SYSTEMD_ANALYZE is not None
    proc = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
