"""Korean for the command line, the evidence package's README and its verifier: every
marked message has a translation, the language follows --lang, HAECHI_LANG or the locale,
and the standalone verifier reports in Korean with --lang ko (problems included)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from haechi.app import App, init_home
from haechi.i18n import catalogue, lang_from_env

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src/haechi/i18n/locale/ko/LC_MESSAGES/haechi.po"
POT = ROOT / "src/haechi/i18n/haechi.pot"
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _marked() -> set[str]:
    found: set[str] = set()
    for where in ("src/haechi/cli", "src/haechi/report"):
        for _name, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / where, method_map=[("**.py", "python")], keywords={"_": None, "N_": None}
        ):
            if isinstance(message, str):
                found.add(message)
    return found


def test_every_marked_message_has_a_korean_translation() -> None:
    marked = _marked()
    assert len(marked) > 100
    with POT.open("rb") as fh:
        template = {m.id for m in read_po(fh) if m.id}
    assert marked <= template, f"run `make i18n`: {sorted(marked - template)[:5]}"
    with PO.open("rb") as fh:
        ko = {m.id: m for m in read_po(fh, locale="ko") if m.id}
    for message in marked:
        entry = ko.get(message)
        assert entry is not None and entry.string and not entry.fuzzy, message
        assert re.search(r"[가-힣]", entry.string) or message in ("id",), message
        assert sorted(PLACEHOLDER.findall(message)) == sorted(PLACEHOLDER.findall(entry.string)), (
            message
        )
    assert catalogue("ko")["FAILED"] == "실패"


def test_the_language_comes_from_the_option_the_variable_or_the_locale() -> None:
    assert lang_from_env({}) == "en"
    assert lang_from_env({"LANG": "ko_KR.UTF-8"}) == "ko"
    assert lang_from_env({"LC_ALL": "en_US.UTF-8", "LANG": "ko_KR.UTF-8"}) == "en"
    assert lang_from_env({"HAECHI_LANG": "ko", "LC_ALL": "C"}) == "ko"


def _haechi(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HAECHI_", "LC_", "LANG"))}
    return subprocess.run(
        [sys.executable, "-m", "haechi.cli.main", *args], env={**base, **env},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_commands_speak_korean(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_home(home).close()
    english = _haechi("verify", "--home", str(home), env={})
    assert english.returncode == 0 and "vault files intact" in english.stdout
    for how in ({"HAECHI_LANG": "ko"}, {"LANG": "ko_KR.UTF-8"}):
        korean = _haechi("verify", "--home", str(home), env=how)
        assert korean.returncode == 0, korean.stderr
        assert "정상" in korean.stdout and "온전함" in korean.stdout, korean.stdout
    flagged = _haechi("--lang", "ko", "verify", "--home", str(home), env={"LANG": "en_US"})
    assert "정상" in flagged.stdout
    helped = _haechi("--lang", "ko", "review", "--help", env={})
    assert "분류" in helped.stdout
    missing = _haechi("--lang", "ko", "ingest", str(tmp_path / "nothing"), "--home", str(home),
                      env={})  # fmt: skip
    assert missing.returncode != 0 and "오류:" in missing.stderr


@pytest.mark.slow
def test_the_package_readme_and_its_verifier_speak_korean(
    sqlite_store: App, tmp_path: Path
) -> None:
    from tests.cases.casedata import demo_case

    from haechi.report.package import PackageOptions, create_package

    ref = demo_case(sqlite_store)
    result = create_package(sqlite_store, ref, tmp_path / "pkg", PackageOptions(pdf=False))
    readme = (result.path / "README.txt").read_text(encoding="utf-8")
    assert "haechi evidence package" in readme and "해치 증거 패키지" in readme
    assert "python3 verify_package.py . --lang ko" in readme and "검증 (Python" in readme
    script = result.path / "verify_package.py"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(script), str(result.path), *args],
                              capture_output=True, text=True, timeout=300)  # fmt: skip

    ok = run("--lang", "ko")
    assert ok.returncode == 0 and ok.stdout.startswith("정상: 사건"), ok.stdout
    assert run().stdout.startswith("OK: case")
    original = next((result.path / "originals").iterdir())
    original.chmod(0o644)
    original.write_bytes(original.read_bytes() + b"!")
    bad = run("--lang", "ko")
    assert bad.returncode == 1
    assert "문제" in bad.stdout and "변조:" in bad.stdout and "매니페스트에는" in bad.stdout
    assert bad.stdout.strip().splitlines()[-1].startswith("실패: 사건")
    shutil.rmtree(result.path)
