"""A local Ray cluster's nodes agree on authentication whatever the home folder holds
(issue 18, the Ray benchmark): Ray 2.60 turns token authentication on by itself for a
process that finds ``~/.ray/auth_token`` (any local ``ray.init()`` leaves one), and the
second node of a ``ray start`` cluster then failed with InvalidAuthToken, so ``make
bench-scale``'s bench_ray.py stopped on a machine where the test suite had run.
:class:`~haechi.run.ray_local.LocalCluster` now states the mode for every node; a driver
that states nothing (as the benchmark's ``haechi analyze``) still joins."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from tests.helpers import ROOT

pytest.importorskip("ray", reason="the ray extra is not installed")

from haechi.run.ray_local import AUTH_MODE, LocalCluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_the_nodes_agree_with_a_token_file_at_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(AUTH_MODE, raising=False)
    home = tmp_path / "home"
    (home / ".ray").mkdir(parents=True)
    (home / ".ray" / "auth_token").write_text(secrets.token_hex(32))
    env = {"HOME": str(home), "PYTHONPATH": str(ROOT)}
    cluster = LocalCluster([0, 1], env=env)
    assert cluster.driver_env == {AUTH_MODE: "disabled"}
    with cluster:  # before: the second node's `ray start` failed (InvalidAuthToken)
        driver_env = {k: v for k, v in os.environ.items() if k != AUTH_MODE} | env
        joined = subprocess.run(
            [sys.executable, "-c", "import ray; ray.init(address='" + cluster.address + "', "
             "logging_level='ERROR'); print(int(ray.cluster_resources()['CPU']))"],
            capture_output=True, text=True, env=driver_env, timeout=300,
        )  # fmt: skip
        assert joined.returncode == 0, joined.stderr[-2000:]
        assert joined.stdout.split()[-1] == "1"  # the worker node's CPU: both nodes joined
    assert LocalCluster([1], env={AUTH_MODE: "token"}).driver_env == {AUTH_MODE: "token"}
