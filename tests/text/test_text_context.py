"""Context in text: benign senses (first aid, evacuation, military administration, ...),
the reporting/support discount and what vetoes it, kiwipiepy lemmas, evasive spellings,
and the lexicon's new keys refused with one sentence when wrong."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.text.kit import T0, room, write_export

from haechi.analyze.text.context import evasive, quoted
from haechi.analyze.text.lexicon import load_lexicon
from haechi.analyze.text.runner import run_text_analysis
from haechi.analyze.text.scan import MessageScan, Scanner
from haechi.analyze.text.service import findings
from haechi.app import App
from haechi.demo.tdesktop_format import Peer
from haechi.domain import UsageError


def scan(scanner: Scanner, text: str) -> MessageScan:
    return scanner.scan(text)


def flagged(scanner: Scanner, text: str) -> bool:
    s = scanner.scan(text)
    return s.points(scanner.lexicon) >= scanner.lexicon.scoring.message_flag


def signals(s: MessageScan) -> set[str]:
    return {f.term_id for f in s.result.findings}


@pytest.mark.parametrize(
    ("benign", "abuse"),
    [
        # first aid: the same verb, about a wound or about a photo
        ("화상 환자는 상처 부위 옷을 벗기고 찬물로 식혀요", "옷 벗겨 드립니다 사진만 보내세요"),
        ("First aid: undress the wound and apply a sterile dressing", "Undress any girl, dm me"),
        # evacuation: a shelter, or a backup room with its link
        ("대피방 위치: 지하 1층 민방위 대피소", "대피방 미리 들어와 t.me/+Daepi0001x"),
        # military administration: a supply depot and a discharge notice, or the slur
        ("군수품 보급 예산 심의 결과", "여군 사진 군수품방에 올림"),
        ("전역 축하! 3사단 ○○대대 병장 김○○ 고생했다", "7사단 ○○대대 하사 최○○ 사진 구함"),
        # perks, alumni, film, photo editing, games
        ("현역 인증하면 영화관 할인", "현역 인증해야 입장, 군번줄 사진 올려"),
        ("동창회 안내: ○○고 07년생 졸업 20주년 모임", "○○고 07년생 인스타 아는 사람 갠텔"),
        ("딥페이크 기술로 배우 얼굴을 복원한 영화", "지인 사진 보내면 딥페이크로 만들어 줌"),
        ("포토샵 하늘 합성 의뢰 받습니다", "카톡 프사 따서 합성함"),
    ],
)
def test_benign_senses_and_their_abuse_twins(scanner: Scanner, benign: str, abuse: str) -> None:
    assert not flagged(scanner, benign), scanner.scan(benign)
    assert flagged(scanner, abuse), scanner.scan(abuse)


def test_a_benign_sense_is_kept_as_a_zero_point_context_finding(scanner: Scanner) -> None:
    s = scan(scanner, "저체온증 환자는 젖은 옷을 벗기고 담요로 감싸 주세요")
    assert not s.result.findings and s.reading.benign == ["ko.beotgigi"]
    kept = [c for c in s.result.context if c.term_id == "ko.beotgigi"]
    assert kept and kept[0].points == 0 and kept[0].matched == "벗기"
    assert "first_aid" in s.reading.kinds


def test_abuse_evidence_keeps_the_abuse_sense(scanner: Scanner) -> None:
    """A link, an evasive spelling, a strong term or photos asked for: no benign reading."""
    for text in (
        "민방위 대피소 말고 대피방 t.me/+AbCdEf12345",
        "상처 부위 옷 벗 겨 드림",
        "상처 부위 옷 벗기기 지인능욕방에서",
        "화상 환자 옷 벗기는 거 말고 사진 보내 주면 벗겨 줌",
    ):
        s = scan(scanner, text)
        assert not s.reading.benign, text
        assert {"ko.daepibang", "ko.beotgigi"} & signals(s), text


def test_reporting_is_discounted_and_chatter_about_the_police_is_not(scanner: Scanner) -> None:
    news = scan(scanner, "서울경찰청은 '겹지방' 운영자를 검거했다고 밝혔다")
    assert news.news_like and signals(news) == {"ko.gyeopjiin_bang"}
    assert not flagged(scanner, "서울경찰청은 '겹지방' 운영자를 검거했다고 밝혔다")
    support = scan(scanner, "지인능욕 피해를 당했다면 디성센터에 상담하세요. 삭제 지원은 무료")
    assert support.news_like and "support" in support.reading.kinds
    # The same vocabulary in a room's own voice: slang, a link, a photo request.
    for chatter in (
        "경찰 수사한다는 뉴스 떴다 ㅋㅋ 능욕방 대피방으로 이동 t.me/+Hq7LmZ02kx",
        "경찰이 뭘 해 ㅋㅋ 신고해봤자 못 잡음 능욕방 계속 간다",
        "기사 났다고 쫄지 말고 지인능욕 사진 보내",
    ):
        s = scan(scanner, chatter)
        assert not s.news_like and s.reading.intent_weight > 0, chatter
        assert flagged(scanner, chatter), chatter


def test_one_news_word_is_not_enough_but_a_quoted_term_is_a_mention(scanner: Scanner) -> None:
    assert not scan(scanner, "경찰 지인능욕방 운영자 추적").news_like
    quoted_news = scan(scanner, "경찰 '지인능욕방' 운영자 추적")
    assert quoted_news.news_like
    f = quoted_news.result.findings[0]
    assert quoted("경찰 '지인능욕방' 운영자 추적", f)
    assert not quoted("경찰 지인능욕방 운영자 추적", f)


def test_lemmas_find_every_inflection_but_not_the_benign_neighbours(scanner: Scanner) -> None:
    for text in ("옷 벗긴 사진 만들어 드림", "사진 주면 벗겨서 보내줌", "다 벗겼다"):
        assert "ko.beotgigi" in signals(scan(scanner, text)), text
    for text in ("양파 껍질 벗기고 썰어요", "귤 껍질 벗긴 거 먹자"):
        assert "ko.beotgigi" not in signals(scan(scanner, text)), text


def test_morpheme_check_keeps_evacuation_words_apart(scanner: Scanner) -> None:
    assert not signals(scan(scanner, "지진 발생 시 대피방법 안내"))
    assert not signals(scan(scanner, "대피방송이 나오면 계단으로"))
    assert "ko.daepibang" in signals(scan(scanner, "대피방으로 모여"))


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("ㅈ1인능욕 해줄 분", "ko.jiin_neungyok"),  # a stroke for the vowel ㅣ
        ("능1욕방 새로 팜", "ko.neungyok_bang"),  # a digit slipped between syllables
        ("능요ㄱ방 들어올 사람", "ko.neungyok_bang"),  # a final consonant typed apart
        ("nvdify her pics", "en.nudify"),  # v for u
        ("지_인_능_욕 해줄 사람", "ko.jiin_neungyok"),  # separators
    ],
)
def test_evasive_spellings_are_found_and_marked(scanner: Scanner, text: str, term: str) -> None:
    s = scan(scanner, text)
    hit = next(f for f in s.result.findings if f.term_id == term)
    assert text[hit.start : hit.end] == hit.matched
    assert evasive(hit) and "evasion" in s.reading.intents


def test_ordinary_spelling_is_not_evasive(scanner: Scanner) -> None:
    for text in ("지인 능욕 해드립니다", "remove clothes bot", "딥페이크 봇 링크"):
        hits = scan(scanner, text).result.findings
        assert hits and not any(evasive(f) for f in hits), text
    # Jamo chat stays jamo: "좋아ㅋㅋ" is laughter, not a final consonant typed apart.
    assert [c.form for c in scan(scanner, "지인능욕 좋아ㅋㅋ").result.intent] == ["ㅋㅋ"]


HIGH_KO = ["지인능욕", "겹지인방", "합성장인", "지인합성", "능욕방"]


def _jamo(syllable: str) -> str:
    """A Hangul syllable typed as compatibility jamo (ㅈ ㅣ)."""
    parts = unicodedata.normalize("NFD", syllable)
    return "".join(_compat(p) for p in parts)


def _compat(jamo: str) -> str:
    # conjoining (CHOSEONG/JUNGSEONG/JONGSEONG X) -> compatibility jamo (LETTER X)
    name = unicodedata.name(jamo)
    for part in ("CHOSEONG", "JUNGSEONG", "JONGSEONG"):
        name = name.replace(f"HANGUL {part} ", "HANGUL LETTER ")
    return unicodedata.lookup(name)


@settings(max_examples=60, deadline=None)
@given(
    form=st.sampled_from(HIGH_KO),
    how=st.sampled_from(["spaces", "dots", "digit", "jamo", "zero_width"]),
    seed=st.integers(0, 10_000),
    before=st.sampled_from(["", "야 ", "오늘 "]),
    after=st.sampled_from(["", " 링크", " 구함?"]),
)
def test_evasions_of_strong_terms_are_found_with_exact_spans(
    scanner: Scanner, form: str, how: str, seed: int, before: str, after: str
) -> None:
    """Property: however a strong Korean term is spelt apart, it is found, its span is the
    original text, and the spelling is recognised as evasive."""
    rng = random.Random(seed)
    chars = list(form)
    if how == "spaces":
        word = " ".join(chars)
    elif how == "dots":
        word = rng.choice([".", "_", "*", "-"]).join(chars)
    elif how == "digit":
        i = rng.randrange(1, len(chars))
        word = "".join(chars[:i]) + str(rng.randrange(10)) + "".join(chars[i:])
    elif how == "jamo":
        i = rng.randrange(len(chars))
        word = "".join(chars[:i]) + _jamo(chars[i]) + "".join(chars[i + 1 :])
    else:
        word = "\u200b".join(chars)
    text = before + word + after
    s = scanner.scan(text)
    hits = [f for f in s.result.findings if f.points >= 10]
    assert hits, (text, s.result)
    for f in hits:
        assert text[f.start : f.end] == f.matched
    if how != "zero_width":  # invisible characters are removed, not read as evasion
        assert any(evasive(f) for f in hits), text


def _bad_lexicon(tmp_path: Path, body: str) -> Path:
    d = tmp_path / "lexicon"
    d.mkdir()
    (d / "local.toml").write_text(body, encoding="utf-8")
    return d


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            '[[term]]\nid = "x"\nforms = ["새말"]\ncategory = "compositing"\n'
            'benign_in = ["cooking"]\nnotes = "n"\n',
            r"x is benign_in an unknown context category 'cooking'",
        ),
        (
            '[[term]]\nid = "x"\nlemmas = ["벗기다"]\ncategory = "undress"\nnotes = "n"\n',
            r"lemma '벗기다' is not a Korean stem/TAG",
        ),
        (
            '[[term]]\nid = "x"\nforms = ["a"]\nrole = "context"\nweight = 50\n',
            r"weight must be a number from 0 to 10",
        ),
        (
            '[[rule]]\nid = "r"\nall = ["intent:bargain"]\n',
            r"r .* unknown intent category intent:bargain",
        ),
    ],
)
def test_bad_context_entries_fail_with_a_sentence(tmp_path: Path, body: str, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        load_lexicon(_bad_lexicon(tmp_path, body))


def test_benign_readings_are_stored_as_context_and_victim_details_stay_redacted(
    sqlite_app: App, tmp_path: Path
) -> None:
    """A discharge notice's rank + unit is a zero-point context row (the room gets no
    points for it) and is still redacted when findings are listed."""
    from haechi.cli.ingest_cmd import run_ingest

    unit = room("○○대대 소식", 1400000201)
    who = Peer("행정병", "user7700000201")
    unit.message(T0, who, "전역 축하! 3사단 ○○대대 병장 김○○ 그동안 고생 많았다")
    unit.message(T0 + 60, who, "군수품 보급 일정 공지")
    run_ingest(sqlite_app, write_export(tmp_path / "export", [unit]), quiet=True)
    run_text_analysis(sqlite_app)
    rows = findings(sqlite_app, include_context=True, limit=1000)
    rank = [r for r in rows if r.term_id == "rank_unit"]
    assert rank and all(r.kind == "context" and r.points == 0 for r in rank)
    assert all("3사단" not in r.matched for r in rank)  # redacted
    assert not [r for r in rows if r.kind in ("term", "pattern", "rule") and r.points >= 4]
