"""Test helpers: run the real CLI, build exports with the benchmark generator."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def gen_module() -> ModuleType:
    """bench/gen_export.py, imported by path (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("gen_export", ROOT / "bench" / "gen_export.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_export(dest: Path, messages: int, media: int = 0, seed: int = 1) -> Path:
    return Path(gen_module().generate_export(dest, messages=messages, media=media, seed=seed))


def haechi(
    *args: str, home: Path | None = None, env: dict[str, str] | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    full_env.update(env or {})
    if home is not None:
        full_env["HAECHI_HOME"] = str(home)
    proc = subprocess.run(
        [sys.executable, "-m", "haechi.cli.main", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=900,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"haechi {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def haechi_json(*args: str, home: Path | None = None) -> dict[str, Any]:
    proc = haechi(*args, "--json", home=home)
    assert proc.returncode in (0, 1), proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data
