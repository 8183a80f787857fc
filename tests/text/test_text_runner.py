"""The text runner on real databases (SQLite and PostgreSQL): findings with exact spans,
rooms ranked with explanations, news discounted, incremental per version, custody."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.helpers import haechi_here as haechi
from tests.text.kit import T0, room, write_export

from haechi.analyze.text.runner import TEXT_ANALYSIS, run_text_analysis
from haechi.analyze.text.service import entities, findings, room_ranking
from haechi.app import App
from haechi.demo.tdesktop_format import Peer
from haechi.store.models import CustodyEvent, Message
from haechi.store.tables.text import TextFinding, TextScan

A = Peer("익명1", "user7700000001")
B = Peer("익명2", "user7700000002")
NEWS = Peer("오늘의 뉴스", "channel1500000001")
SCHOOL = Peer("○○고등학교 알림", "channel1500000002")
BOTAD = "지인능욕 합성 해드림. 첫 장 무료, 다이아 충전은 @maker_demo_bot"
WALLET = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"


def build(tmp: Path) -> Path:
    abuse = room("겹지인 모임", 1400000001)
    abuse.message(T0, A, "○○고 07년생 ○○○ 아시는 분? 갠텔 주세요")
    abuse.message(T0 + 60, B, BOTAD)
    abuse.message(T0 + 120, A, "입금 주소 " + WALLET)
    abuse.message(T0 + 180, B, ["방 터지면 대피방으로 ", ("link", "https://t.me/+AbCdEf123456")])
    abuse.message(T0 + 240, A, "오늘 점심 뭐 먹지")
    news = room("오늘의 뉴스", 1500000001, "public_channel")
    news.message(
        T0, NEWS, "[속보] 경찰은 지인능욕 딥페이크 범죄 가해자를 검거했다고 밝혔다. 김기자"
    )
    news.message(T0 + 60, NEWS, "법원, 딥페이크 합성물 유포 혐의 징역 선고")
    school = room("○○고등학교 알림", 1500000002, "public_channel")
    school.message(
        T0, SCHOOL, "가정통신문: 딥페이크 범죄 예방 교육 안내. 피해 시 학교와 경찰에 신고하세요."
    )
    cafe = room("커피 모임", 1600000001)
    cafe.message(T0, A, "다이아몬드 반지 자랑 ☕")
    cafe.message(T0 + 60, B, "귤 껍질 벗기기 대회 열려요")
    return write_export(tmp / "export", [abuse, news, school, cafe])


def ingest(app: App, path: Path) -> None:
    from haechi.cli.ingest_cmd import run_ingest

    run_ingest(app, path, quiet=True)


def test_rooms_ranked_with_spans_and_custody(app: App, tmp_path: Path) -> None:
    ingest(app, build(tmp_path))
    report = run_text_analysis(app)
    assert report.messages == 10 and report.findings > 0 and report.batches == 1
    ranking = room_ranking(app)
    by_title = {r.title: r for r in ranking}
    abuse, news = by_title["겹지인 모임"], by_title["오늘의 뉴스"]
    school, cafe = by_title["○○고등학교 알림"], by_title["커피 모임"]
    assert ranking[0].title == "겹지인 모임" and abuse.level == "high"
    assert abuse.score > 2 * news.score and news.score > 0
    assert news.discounted and news.news_like == news.flagged
    assert school.score < abuse.score / 3
    assert cafe.score == 0 and cafe.flagged == 0
    lines = {(x["what"], x.get("id")) for x in abuse.explanation}
    assert ("room_rule", "victim_compositing_link") in lines
    assert ("rule", "target_search_post") in lines and ("rule", "bot_ad") in lines

    with app.db.connect() as conn:
        texts = dict(conn.execute(select(Message.id, Message.text)).all())
        for pk, start, end, matched in conn.execute(
            select(
                TextFinding.message_pk,
                TextFinding.span_start,
                TextFinding.span_end,
                TextFinding.matched,
            ).where(TextFinding.kind != "rule")
        ):
            assert texts[pk][start:end] == matched
        events = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.event_type == TEXT_ANALYSIS)
        ).scalars()
        bodies = [json.loads(b)["data"] for b in events]
    assert len(bodies) == 1 and bodies[0]["messages"] == 10
    assert bodies[0]["findings"] == report.findings and len(bodies[0]["rows_sha256"]) == 64

    ids = {(e.kind, e.value) for e in entities(app)}
    assert {("tg_bot", "maker_demo_bot"), ("tg_invite", "+AbCdEf123456"), ("btc", WALLET)} <= ids

    hidden = findings(app, term="school_birthyear")
    assert hidden and "07년생" not in hidden[0].matched  # victim details redacted
    shown = findings(app, term="school_birthyear", reveal=True)
    assert "07년생" in shown[0].matched
    with app.db.connect() as conn:
        reveals = conn.execute(
            select(func.count()).where(CustodyEvent.event_type == "text_reveal")
        ).scalar_one()
    assert reveals == 1

    again = run_text_analysis(app)
    assert again.messages == 0 and again.findings == 0


def test_a_new_lexicon_version_rescans_and_the_hook_catches_up(
    sqlite_app: App, tmp_path: Path
) -> None:
    app = sqlite_app
    ingest(app, build(tmp_path))
    first = run_text_analysis(app)
    lexdir = app.settings.home / "lexicon"
    lexdir.mkdir()
    (lexdir / "cafe.toml").write_text(
        '[[term]]\nid = "local.cafe"\nlang = "ko"\nforms = ["점심"]\nstrength = "low"\n'
        'category = "test"\nnotes = "test term"\n',
        encoding="utf-8",
    )
    second = run_text_analysis(app)
    assert second.version != first.version and second.messages == first.messages
    with app.db.connect() as conn:
        versions = dict(
            conn.execute(select(TextScan.version, func.count()).group_by(TextScan.version)).all()
        )
        new_terms = conn.execute(
            select(func.count()).where(
                TextFinding.term_id == "local.cafe", TextFinding.version == second.version
            )
        ).scalar_one()
    assert versions == {first.version: 10, second.version: 10}
    assert new_terms == 1
    # A second export arrives: the ingest hook scans only its messages.
    extra = room("커피 모임 2", 1600000002)
    extra.message(T0 + 999, Peer("x", "user7700000009"), "nudify bot @undress_demo_bot")
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.run.hooks import run_ingest_hooks

    report = run_ingest(app, write_export(tmp_path / "second", [extra]), quiet=True)
    result = run_ingest_hooks(app, report)["text"]
    assert isinstance(result, dict) and result["messages"] == 1 and result["flagged"] == 1


def test_cli_text_commands(sqlite_app: App, tmp_path: Path) -> None:
    """The text commands through the command line's entry point, in this process (exit
    codes, output and the one sentence as printed; the scanner is built once, not per
    command)."""
    home = sqlite_app.settings.home
    ingest(sqlite_app, build(tmp_path))
    sqlite_app.close()
    proc = haechi("text", "analyze", "--json", home=home, check=True)
    assert json.loads(proc.stdout)["messages"] == 10
    proc = haechi("text", "analyze", "--json", home=home, check=True)
    assert json.loads(proc.stdout)["messages"] == 0
    rooms = json.loads(haechi("text", "rooms", "--json", home=home, check=True).stdout)
    assert rooms[0]["title"] == "겹지인 모임"
    ents = json.loads(
        haechi("text", "entities", "--kind", "tg_bot", "--json", home=home, check=True).stdout
    )
    assert [e["value"] for e in ents] == ["maker_demo_bot"]
    rows = json.loads(haechi("text", "findings", "--json", home=home, check=True).stdout)
    assert any(r["term_id"] == "ko.jiin_neungyok" for r in rows)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[term]]\nid = "x"\nforms = ["a"]\nstrength = "huge"\n', encoding="utf-8")
    proc = haechi("text", "lexicon", "--import", str(bad), home=home)
    assert proc.returncode != 0 and "strength" in proc.stderr and "Traceback" not in proc.stderr
    assert haechi("verify", home=home).returncode == 0


@pytest.mark.parametrize("batch", [3])
def test_small_batches_give_the_same_rows(sqlite_app: App, tmp_path: Path, batch: int) -> None:
    ingest(sqlite_app, build(tmp_path))
    report = run_text_analysis(sqlite_app, batch=batch)
    assert report.batches == 4 and report.messages == 10
    with sqlite_app.db.connect() as conn:
        n = conn.execute(select(func.count()).select_from(TextScan)).scalar_one()
    assert n == 10
