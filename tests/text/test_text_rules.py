"""Lexicon rules name only things a message can produce: the shipped rules fire on the
identifiers the extractor really emits, an unknown name is refused when the lexicon loads,
and a missing kiwipiepy is one sentence before the scan, not an ImportError in the middle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from tests.text.kit import T0, room, write_export

from haechi.analyze.text.entities import GROUPS, KINDS, extract
from haechi.analyze.text.lexicon import builtin_path, load_lexicon
from haechi.analyze.text.runner import run_text_analysis
from haechi.analyze.text.service import room_ranking
from haechi.app import App
from haechi.demo.tdesktop_format import Peer
from haechi.domain import UsageError

A = Peer("익명1", "user7700000011")
B = Peer("익명2", "user7700000012")
BACKUP = "backup_room_with_abuse"


def _room_rules(app: App) -> dict[str, set[str]]:
    return {
        str(r.title): {line["id"] for line in r.explanation if line["what"] == "room_rule"}
        for r in room_ranking(app)
    }


def test_backup_room_post_with_a_public_link_triggers_the_rule(
    sqlite_app: App, tmp_path: Path
) -> None:
    """A room blown up and re-opened under a public t.me/name (not an invite link): the
    extractor calls that link ``tg_username``; the rule used to name a kind that does not
    exist (``tg_public``) and so never fired."""
    from haechi.cli.ingest_cmd import run_ingest

    abuse = room("능욕 모임", 1400000101)
    abuse.message(T0, A, "지인능욕 사진 올려주세요")
    abuse.message(T0 + 60, B, ["방 터지면 대피방으로: ", ("link", "https://t.me/newroom_backup")])
    quiet = room("등산 모임", 1400000102)  # the same announcement, no abuse vocabulary
    quiet.message(T0, A, "이번 주 산행 취소")
    quiet.message(T0 + 60, B, ["방 터지면 대피방으로: ", ("link", "https://t.me/hiking_backup")])
    run_ingest(sqlite_app, write_export(tmp_path / "export", [abuse, quiet]), quiet=True)
    run_text_analysis(sqlite_app)
    kinds = {e.kind for e in extract("https://t.me/newroom_backup")}
    assert kinds == {"tg_username"}
    rules = _room_rules(sqlite_app)
    assert BACKUP in rules["능욕 모임"]
    assert BACKUP not in rules.get("등산 모임", set())


def test_the_shipped_rules_name_only_real_things() -> None:
    lex = load_lexicon()  # validates: an unknown name would raise here
    categories = {t.category for t in lex.terms if t.role == "signal"}
    for rule in lex.rules:
        for alts in rule.all:
            for kind, value in alts:
                if kind == "entity":
                    assert value in KINDS or value in GROUPS, (rule.id, value)
                if kind == "category":
                    assert value in categories, (rule.id, value)
    assert all(kinds <= KINDS for kinds in GROUPS.values())
    sample = (
        "t.me/+AbCdEf123456 t.me/c/1234567/89 t.me/some_room/5 @maker_demo_bot @some_room "
        "t.me/addlist/AbCdEf https://example.org/x mail@example.org 010-1234-5678 "
        "0x52908400098527886E0F7030069857D2E4169EE7 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa "
        "open.kakao.com/o/sAbCdEf discord.gg/abcDEF instagram.com/some.one x.com/someone"
    )
    produced = {e.kind for e in extract(sample)}
    assert len(produced) >= 12 and produced <= KINDS, produced - KINDS


@pytest.mark.parametrize(
    ("condition", "needle"),
    [
        ("entity:tg_public", "unknown identifier kind or group entity:tg_public"),
        ("category:compositting", "unknown term category category:compositting"),
        ("pcat:victim_identifyng", "unknown pattern category pcat:victim_identifyng"),
        ("pattern:nope", "unknown pattern pattern:nope"),
    ],
)
def test_an_analysts_rule_with_an_unknown_name_is_refused(
    tmp_path: Path, condition: str, needle: str
) -> None:
    path = tmp_path / "local.toml"
    path.write_text(
        f'[[rule]]\nid = "local.typo"\nscope = "room"\nall = ["term:ko.jiin_neungyok", '
        f'"{condition}"]\npoints = 3\nexplain = "typo"\n',
        encoding="utf-8",
    )
    with pytest.raises(UsageError, match=needle) as info:
        load_lexicon(None, [path])
    message = str(info.value)
    assert message.startswith("Lexicon rule local.typo (in local.toml) names an unknown")
    assert message.count(". ") == 0  # one sentence


def test_a_shipped_rule_with_an_unknown_name_is_refused(tmp_path: Path) -> None:
    """The rule as it was shipped (``entity:tg_public``) no longer loads: a copy of the
    built-in file carrying it, read as a later file, is refused and named."""
    text = builtin_path().read_text(encoding="utf-8")
    fixed = "entity:tg_invite|entity:tg_username|entity:tg_private_message"
    assert fixed in text
    old = tmp_path / "lexicon_as_shipped.toml"
    old.write_text(text.replace(fixed, "entity:tg_invite|entity:tg_public"), encoding="utf-8")
    with pytest.raises(UsageError, match=f"rule {BACKUP} \\(in lexicon_as_shipped.toml\\)"):
        load_lexicon(None, [old])


def test_a_category_only_context_words_have_is_refused(tmp_path: Path) -> None:
    """Context (news) words never become findings, so their category cannot be tested."""
    path = tmp_path / "local.toml"
    assert "news" in {t.category for t in load_lexicon().terms if t.role == "context"}
    path.write_text('[[rule]]\nid = "local.news"\nall = ["category:news"]\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"local\.news .* category:news"):
        load_lexicon(None, [path])


def test_missing_kiwipiepy_is_one_sentence_before_the_scan() -> None:
    """Run where kiwipiepy cannot be imported (``sys.modules[name] = None`` is how Python
    marks a module as unavailable), in a fresh interpreter so this one keeps it."""
    script = (
        "import sys\n"
        "sys.modules['kiwipiepy'] = None\n"
        "from haechi.analyze.text.lexicon import load_lexicon\n"
        "from haechi.analyze.text.matcher import Matcher, morpheme_aligned\n"
        "from haechi.domain import UsageError\n"
        "try:\n"
        "    Matcher(load_lexicon())\n"
        "except UsageError as exc:\n"
        "    print('build:', exc)\n"
        "try:\n"
        "    morpheme_aligned('다이아몬드 반지', 0, 3)\n"
        "except UsageError as exc:\n"
        "    print('scan:', exc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(": ", 1) for line in proc.stdout.splitlines())
    assert "kiwipiepy, but it is not installed" in lines["build"]
    assert "pip install 'haechi[text]'" in lines["build"]
    assert "such as ko." in lines["build"]
    assert "kiwipiepy, but it cannot be loaded" in lines["scan"]
