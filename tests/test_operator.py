"""Actions carry a named person, not a Unix account (issue 17, point 7)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.helpers import haechi


def _actors(home: Path) -> list[str]:
    with sqlite3.connect(home / "haechi.db") as db:
        return [json.loads(b)["actor"] for (b,) in db.execute("SELECT body FROM custody_events")]


def test_an_unnamed_operator_is_recorded_as_such(tmp_path: Path) -> None:
    home = tmp_path / "h"
    proc = haechi("init", str(home), check=True)
    assert "nobody named" in proc.stdout
    (actor,) = _actors(home)
    assert actor.endswith("(login name; no operator named)")


def test_the_named_operator_is_in_every_event(tmp_path: Path) -> None:
    home = tmp_path / "h"
    haechi("--operator", "Kim Ji-su", "init", str(home), check=True)
    haechi("--operator", "Kim Ji-su", "verify", home=home, check=True)
    haechi("verify", home=home, env={"HAECHI_OPERATOR": "Lee Ha-yoon"}, check=True)
    assert _actors(home) == ["Kim Ji-su", "Kim Ji-su", "Lee Ha-yoon"]
    # `init` never writes the first person into the settings for everyone after them
    assert "Kim Ji-su" not in (home / "haechi.toml").read_text()


def test_a_shared_data_directory_needs_a_listed_name(tmp_path: Path) -> None:
    home = tmp_path / "h"
    haechi("--operator", "Kim Ji-su", "init", str(home), check=True)
    config = home / "haechi.toml"
    config.write_text(
        config.read_text().replace(
            "[custody]\n", '[custody]\noperators = ["Kim Ji-su", "Lee Ha-yoon"]\n'
        )
    )
    refused = haechi("verify", home=home)
    assert refused.returncode != 0 and "--operator" in refused.stderr
    assert "Traceback" not in refused.stderr
    stranger = haechi("--operator", "Park", "verify", home=home)
    assert stranger.returncode != 0 and "not one of the operators" in stranger.stderr
    assert haechi("--operator", "Lee Ha-yoon", "verify", home=home).returncode == 0
    assert _actors(home)[-1] == "Lee Ha-yoon"
