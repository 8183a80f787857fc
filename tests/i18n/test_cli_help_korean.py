"""Every command's --help in Korean has no English sentence left (option names, values
typed as code, and proper nouns aside), the words Typer adds (panels, [required], the
--help option) are Korean too, and a few commands print their results in Korean while
their --json output stays as it is."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from haechi.app import init_home

RUNNER = Path(__file__).with_name("korean_cli_run.py")
HANGUL = re.compile(r"[가-힣]")
# Words nearly every English sentence has; none of them is an option value or a name.
ENGLISH = frozenset(
    re.findall(
        r"\w+",
        "the a an and of to with for this that these its from by is are be when where which "
        "what who only every each into than will it not no as at on in or but you your",
    )
)


def _run(*args: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HAECHI_", "LC_", "LANG"))}
    done = subprocess.run(
        [sys.executable, str(RUNNER), *args], env={**base, "COLUMNS": "200"},
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def english_left(page: str) -> list[str]:
    """The English words left on a help page once the usage line, option and parameter
    names, types, `code`, <placeholders>, [defaults] and tokens such as t.me/name or
    key=value are set aside."""
    found = []
    for line in page.splitlines():
        text = line.strip(" │╭╮╰╯─")
        if text.startswith("Usage:"):
            continue
        text = re.sub(r"[\w-]+\s+<\w+>", " ", text)  # a parameter's name and its type
        text = re.sub(r"`[^`]*`|<[^>]*>|\[[^\]]*\]|'[^']*'|\"[^\"]*\"", " ", text)
        for token in text.split():
            if token.startswith("-") or re.search(
                r"[-/.:_=@<>\[\]{}$~+#*0-9]", token.strip(".,;:()")
            ):
                continue
            word = token.strip(".,;:()!?").lower()
            if word in ENGLISH:
                found.append(word)
    return found


@pytest.fixture(scope="module")
def pages() -> dict[str, dict[str, str]]:
    return {lang: json.loads(_run("help", lang)) for lang in ("ko", "en")}


def test_every_help_page_is_korean(pages: dict[str, dict[str, str]]) -> None:
    korean, english = pages["ko"], pages["en"]
    assert set(korean) == set(english) and len(korean) > 140, len(korean)
    # The check can fail: on the English pages it finds English on almost every one.
    flagged = [cmd for cmd, page in english.items() if english_left(page)]
    assert len(flagged) > 0.9 * len(english), sorted(set(english) - set(flagged))[:10]
    left = {cmd: english_left(page) for cmd, page in korean.items()}
    assert {cmd: words for cmd, words in left.items() if words} == {}
    for cmd, page in korean.items():
        assert HANGUL.search(page), cmd
        assert "Show this message and exit" not in page, cmd
        assert "옵션" in page and "이 도움말을 보여 주고 끝냅니다" in page, cmd
        assert "Options" not in page and "Arguments" not in page and "Commands" not in page
        assert "[required]" not in page and "[default:" not in page and "[env var:" not in page
    assert "명령" in korean[""] and "데이터 디렉터리" in korean["case create"]
    assert "[필수]" in korean["case create"] and "[환경 변수: HAECHI_HOME]" in korean["case create"]
    assert "사건을 엽니다." in korean["case create"]
    assert "협력기관" in korean["exchange partner add"]
    assert "[custody] operators" in korean[""]  # shown, not read as markup


def test_commands_print_their_results_in_korean(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    init_home(Path(home)).close()
    ko = ["--lang", "ko", "--operator", "수사관 김"]
    runs = [
        [*ko, "case", "create", "딥페이크 유포 신고", "--ref", "SEOUL-24-9", "--home", home],
        [*ko, "case", "note", "SEOUL-24-9", "피해자 상담 완료", "--home", home],
        [*ko, "case", "show", "SEOUL-24-9", "--home", home],
        [*ko, "case", "list", "--home", home],
        [*ko, "case", "list", "--json", "--home", home],
        [*ko, "bank", "create", "victim 2024-031", "--home", home],
        [*ko, "bank", "describe", "victim 2024-031", "--home", home],
        [*ko, "sources", "--home", home],
        [*ko, "match", "--groups", "--home", home],
        [*ko, "match", "--home", home],
        [*ko, "keys", "list", "--home", home],
        [*ko, "user", "list", "--home", home],
        ["case", "list", "--home", home],
    ]
    results = json.loads(_run("run", json.dumps(runs)))
    codes = [r[0] for r in results]
    assert codes[:9] == [0] * 9 and codes[10:] == [0, 0, 0], results
    out = [r[1] for r in results]
    assert "사건 SEOUL-24-9 접수 (번호 1)" in out[0], out[0]
    assert "메모 1 추가됨" in out[1]
    assert "신고일" in out[2] and "메모 1" in out[2] and "항목" in out[2]
    assert "참조 번호" in out[3] and "담당자" in out[3] and "SEOUL-24-9" in out[3]
    listed = json.loads(out[4])  # --json: machine output, untranslated
    assert listed[0]["ref"] == "SEOUL-24-9" and "status" in listed[0]
    assert "뱅크 'victim 2024-031' 만듦 (ID 1)" in out[5]
    assert "항목 0개" in out[6] and "일치 0건" in out[6]
    assert "아직 출처가 없습니다" in out[7]
    assert "대화방 2곳 이상에 게시된 파일이 없습니다" in out[8]
    assert codes[9] != 0 and "검사할 파일" in results[9][2] and "오류:" in results[9][2]
    assert out[10].startswith("현재") and "새 기록에 서명" in out[10]
    assert "reference" in out[12] and "참조 번호" not in out[12]  # English without --lang
    for text in out[:4] + out[5:9]:
        assert not english_left(text), text
