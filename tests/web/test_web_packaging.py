"""A non-editable install ships the web application's templates, assets (the vendored
libraries too) and catalogues: the package-data globs of pyproject.toml cover every data
file of the package, and a wheel built from the tree really holds them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "haechi"
WEB_DATA = ("web/templates/", "web/static/", "web/static/vendor/", "web/locales/")


def _data_files() -> list[str]:
    """Every file of the package that is not Python source, relative to the package: the
    committed ones where this is a git checkout (a stray local file is no shipped data)."""
    listed = subprocess.run(
        ["git", "ls-files", "--", "src/haechi"], cwd=ROOT, capture_output=True, text=True
    )
    if listed.returncode == 0 and listed.stdout.strip():
        paths = [ROOT / line for line in listed.stdout.splitlines()]
    else:
        paths = [p for p in PACKAGE.rglob("*") if p.is_file()]
    out = []
    for path in paths:
        rel = path.relative_to(PACKAGE).as_posix()
        if path.suffix in (".py", ".pyc") or "__pycache__" in rel or ".egg-info" in rel:
            continue
        out.append(rel)
    return sorted(out)


def _missing_web(files: list[str]) -> list[str]:
    return [d for d in WEB_DATA if not any(f.startswith(d) for f in files)]


def test_the_package_data_globs_cover_every_data_file() -> None:
    files = _data_files()
    assert _missing_web(files) == [], "the tree lost its web files?"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["haechi"]
    covered = {
        p.relative_to(PACKAGE).as_posix()
        for pattern in globs
        for p in PACKAGE.glob(pattern)
        if p.is_file()
    }
    assert [f for f in files if f not in covered] == []


@pytest.mark.slow
def test_a_built_wheel_holds_every_data_file(tmp_path: Path) -> None:
    """The real build (pip and setuptools, as a non-editable install runs it), from a copy
    of the tree so that the checkout gets no build/ folder."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(
        ROOT / "src",
        project / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    dist = tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(project)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = dist.glob("haechi-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    files = _data_files()
    assert _missing_web(files) == []
    assert [f for f in files if f"haechi/{f}" not in names] == []
    assert "haechi/web/static/vendor/htmx-2.0.11.min.js" in names
