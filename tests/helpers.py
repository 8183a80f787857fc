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


def haechi_here(
    *args: str, home: Path | None = None, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """``haechi`` as :func:`haechi` runs it (the environment without HAECHI_*, HAECHI_HOME
    set), through the same entry point ``haechi.cli.main.main`` in this process: a test
    about what the commands do, not about the process, saves an interpreter start (~1.5 s
    of CPU) a command. Exit code, stdout and stderr as the process gives them (``main`` ends
    every failure with its one sentence and an exit code, never a traceback)."""
    import contextlib
    import io

    from haechi.cli.main import main
    from haechi.i18n import current, set_lang

    lang = current()  # a command's --lang chooses the process's language: put it back after
    saved = {k: v for k, v in os.environ.items() if k.startswith("HAECHI_")}
    for key in saved:
        del os.environ[key]
    if home is not None:
        os.environ["HAECHI_HOME"] = str(home)
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        for key in [k for k in os.environ if k.startswith("HAECHI_")]:
            del os.environ[key]
        os.environ.update(saved)
        set_lang(lang)
    done = subprocess.CompletedProcess(list(args), code, stdout.getvalue(), stderr.getvalue())
    if check and code != 0:
        raise AssertionError(f"haechi {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done
