"""Rules that need no lexicon term (issue 16 point 5): a photo of a person asked for to be
made naked, a bot offering it, a room gathered again after a ban without a link; each
next to its benign look-alike (a photo app, news, victim support, art, a guild chat), with
the rule's explanation as the reason. Also the rule senses (``benign_in`` on rules), intent
cues quoted in a report, and one-letter misspellings of long Korean terms."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.text.kit import T0, flag, room, write_export

from haechi.analyze.text.context import in_quotes
from haechi.analyze.text.hangul import sound_key, typo_keys
from haechi.analyze.text.lexicon import load_lexicon
from haechi.analyze.text.runner import run_text_analysis
from haechi.analyze.text.scan import Scanner
from haechi.analyze.text.service import findings
from haechi.app import App
from haechi.demo.tdesktop_format import Peer
from haechi.domain import UsageError


@pytest.mark.parametrize(
    ("abuse", "rule", "benign"),
    [
        # a photo given to be made naked, or a photo given to be made a cartoon
        ("후배 얼굴 사진 주면 누드로 뽑아드림", "undress_photo_request",
         "사진 주면 만화로 그려드림"),
        ("drop her pics, we'll have her naked by tonight", "undress_photo_request",
         "drop her pics, we'll have a birthday card by tonight"),
        # a named person, an offer and the undressing notion; or an art class
        ("anyone can make my crush naked? paying", "undress_person_offer",
         "미술학원 누드 크로키 수업, 친구 추천하면 할인"),
        # a bot with the notion; or a bot for the weather
        ("사진 올리면 옷 없는 모습으로 바꿔주는 봇 @mirror_demo_bot", "undress_bot",
         "사진 올리면 날씨 알려주는 봇 @sky_demo_bot"),
        # a room gathered again after a ban; or a guild whose game server went down
        ("방 또 폭파당해서 이쪽으로 옮김 올리던 거 계속", "moved_after_ban",
         "게임 길드방 폭파당해서 이쪽으로 옮김 랭겜 계속"),
        ("moved here after the ban, old members dm for the link", "moved_after_ban",
         "Police said the group moved to a new channel after the ban, the court heard"),
    ],
)  # fmt: skip
def test_cue_rules_flag_abuse_and_not_the_look_alike(
    scanner: Scanner, abuse: str, rule: str, benign: str
) -> None:
    flagged, s = flag(scanner, abuse)
    assert flagged, (abuse, s.reading)
    assert not s.result.findings  # no lexicon term: the rule is the whole reason
    fired = {r.id: r.explain for r in s.rules}
    assert fired.get(rule)  # the reason an analyst is shown
    flagged, s = flag(scanner, benign)
    assert not flagged, (benign, [r.id for r in s.rules], s.reading)


def test_news_and_support_framing_keep_the_rules_quiet(scanner: Scanner) -> None:
    """The same cues in a report (news words weigh enough: the rule's sense) or a
    counsellor's notice do not fire; a report quoting an advert quotes its cues."""
    for text in (
        "The app promised to turn any photo into a nude image, researchers found",
        "친구가 내 사진으로 야한 걸 만들었다면 혼자 고민하지 말고 상담센터에 연락하세요",
        "경찰은 운영자가 방이 폭파될 때마다 새 방으로 회원을 옮긴 혐의로 구속했다고 밝혔다",
        '[단독] "사진 주면 누드로" 광고 여전…방심위 차단 요청',
    ):
        flagged, s = flag(scanner, text)
        assert not flagged, (text, [r.id for r in s.rules], s.reading)
    # Quoted cues are mentions: kept as context (with a signal term, so the message's
    # cues are stored), not counted as intent, and they count as news like a quoted term.
    s = scanner.scan('딥페이크 광고에 "사진 주면 누드로 해드림" 이라고 적혀 있었다')
    mentions = {c.category for c in s.result.context if c.role == "mention"}
    assert {"photo", "transform", "request"} <= mentions and not s.result.intent
    assert "news" in s.reading.kinds
    flagged, s = flag(scanner, '그 광고엔 "사진 주면 누드로 해드림" 이라고 적혀 있었다')
    assert not flagged and not s.rules


def test_the_same_cues_unquoted_are_a_request(scanner: Scanner) -> None:
    flagged, s = flag(scanner, "사진 주면 누드로 해드림 ㅋㅋ")
    assert flagged and "undress_photo_request" in {r.id for r in s.rules}


def test_in_quotes() -> None:
    text = 'He said "send a photo" and left'
    i = text.index("send")
    assert in_quotes(text, i, i + 12)
    text = "we'll do it, send a photo, it's easy"
    i = text.index("send")
    assert not in_quotes(text, i, i + 12)  # apostrophes inside words are not quotes
    text = "기사: '사진만 주면' 광고"
    i = text.index("사진")
    assert in_quotes(text, i, i + 5)


def test_a_link_does_not_lift_the_sense_of_a_guild_move(scanner: Scanner) -> None:
    """Backup-room rules now read senses too: a game guild's new room after its room blew
    up, link and all, is not a successor abuse room; the same with abuse words is."""
    flagged, s = flag(scanner, "게임 길드방 터져서 새 방 팠어요 t.me/+GuildNew01")
    assert not flagged, [r.id for r in s.rules]
    flagged, s = flag(scanner, "능욕방 터져서 새 방 팠어요 t.me/+GuildNew01")
    assert flagged


def test_cues_of_a_message_without_rule_or_term_are_not_kept(scanner: Scanner) -> None:
    s = scanner.scan("누드 크로키 수업 사진으로 보여드림")  # the art sense: no rule
    assert not s.rules and not s.result.intent and not s.result.context


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("지인눙욕 해드려요", "ko.jiin_neungyok"),  # a vowel for its neighbour
        ("나체합셩 1장", "ko.nude_hapseong"),
        ("딥페이그 봇 링크", "ko.deepfake"),  # a plain initial for an aspirated one
        ("겹지인밤 들어갈 사람", "ko.gyeopjiin_bang"),  # one nasal final for another
    ],
)
def test_one_letter_misspellings_of_long_terms(scanner: Scanner, text: str, term: str) -> None:
    s = scanner.scan(text)
    hits = [f for f in s.result.findings if f.term_id == term]
    assert hits and hits[0].via == "typo", [(f.term_id, f.via) for f in s.result.findings]
    assert "evasion" in s.reading.intents
    assert text[hits[0].start : hits[0].end].replace(" ", "") == hits[0].matched.replace(" ", "")


def test_typo_keys_are_one_letter_off_and_short_forms_get_none(scanner: Scanner) -> None:
    keys = typo_keys("지인능욕")
    assert sound_key("지인눙욕") in keys and sound_key("지인능욕") not in keys
    assert all(
        sum(a != b for a, b in zip(k, sound_key("지인능욕"), strict=True)) == 1 for k in keys
    )
    variants = scanner.matcher.variants
    assert variants is not None
    forms = {form for entries in variants.typo.keys.values() for _t, form in entries}
    assert forms and all(len(f) >= 4 for f in forms)  # 합성, 대피방: too many real words
    for text in ("합셩 반응", "대피반 편성", "능욕밤"):
        assert not any(f.via == "typo" for f in scanner.scan(text).result.findings), text


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            '[[rule]]\nid = "r"\nall = ["intent:move"]\nbenign_in = ["cooking"]\n',
            r"r is benign_in an unknown context category 'cooking'",
        ),
        ('[[rule]]\nid = "r"\nall = ["intent:move"]\nsense = ["news"]\n', r"unknown keys"),
    ],
)
def test_bad_rule_senses_fail_with_a_sentence(tmp_path: Path, body: str, needle: str) -> None:
    d = tmp_path / "lexicon"
    d.mkdir()
    (d / "local.toml").write_text(body, encoding="utf-8")
    with pytest.raises(UsageError, match=needle):
        load_lexicon(d)


def test_a_cue_rule_is_stored_with_its_reason(sqlite_app: App, tmp_path: Path) -> None:
    """Through ingest and the runner: the rule row carries its explanation, the cues that
    made it are context rows, and the look-alike room has neither. (The message model, on
    in the runner, reads both as a person's photo asked for: it cannot tell 알몸 from 만화,
    so its rows are set aside here; its own tests are in test_text_model.py.)"""
    from haechi.cli.ingest_cmd import run_ingest

    who = Peer("익명", "user7700000301")
    abuse = room("모임", 1400000301)
    abuse.message(T0, who, "동기 사진 보내 주면 알몸으로 바꿔 드림")
    app_room = room("사진 앱", 1400000302)
    app_room.message(T0, who, "동기 사진 보내 주면 만화로 바꿔 드림")
    run_ingest(sqlite_app, write_export(tmp_path / "export", [abuse, app_room]), quiet=True)
    run_text_analysis(sqlite_app)
    from haechi.analyze.text.scan import MODEL_RULE

    every = findings(sqlite_app, include_context=True, limit=1000)
    assert any("message model" in r.matched for r in every if r.term_id == MODEL_RULE)
    lexicon_chats = {r.chat_id for r in every if r.kind == "rule" and r.term_id != MODEL_RULE}
    rows = [r for r in every if r.chat_id in lexicon_chats and r.term_id != MODEL_RULE]
    rules = [r for r in rows if r.kind == "rule"]
    assert [r.term_id for r in rules] == ["undress_photo_request"]
    assert "naked" in rules[0].matched  # the explanation
    cues = {r.category for r in rows if r.kind == "context"}
    assert {"photo", "transform"} <= cues
    assert len({r.chat_id for r in rows}) == 1
