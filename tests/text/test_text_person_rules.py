"""Engine m5's rules about people's photos, named bots and standby rooms (issue 16 point 5),
each next to a benign look-alike that has most of the same cues; and the Latin and
Cyrillic scan that no longer lets a rejected match swallow the start of the next word."""

from __future__ import annotations

import pytest
from tests.text.kit import flag

from haechi.analyze.text.scan import Scanner


@pytest.mark.parametrize(
    ("abuse", "rule", "benign"),
    [
        # a person's photos with her number, or a lost wallet's owner asked for a number
        ("후배 사진이랑 전화번호 같이 올림", "person_photo_exposed",
         "학교 분실물 안내: 사진 속 지갑 주인은 전화번호를 담임 선생님께 알려주세요"),
        ("she doesn't know I took these pics of her lol", "person_photo_exposed",
         "she doesn't know about the surprise party yet, don't post the photos"),
        # photos of a person traded one for one, or trading cards
        ("동기 사진 맞교환 하실 분", "person_photo_swap",
         "포켓몬 카드 맞교환 하실 분"),
        # a person's photos handed over for work, or a retouching job in a studio's words
        ("선배 셀카 넘길 테니 작업 해줄 사람", "person_photo_work",
         "선배 결혼식 사진 보정 작업 해줄 사람 구해요"),
        # a bot named by what it does without a handle, or a cartoon bot
        ("옷 지워주는 봇 아직 돌아가냐", "undress_bot_named",
         "사진을 만화로 바꿔주는 봇 아직 돌아가냐"),
        # in-room currency for photos of a woman, or coins for profile stickers
        ("여자 사진 한 장이면 크레딧 3개 차감", "paid_photo_of_woman",
         "사진 한 장이면 크레딧 3개로 스티커 완성"),
        # a standby room with its link, or a study room booked at the library
        ("예비방 미리 파둠 t.me/+Sp4reR00mXy12", "standby_room_link",
         "도서관 스터디룸 예비방 예약 완료, 자세한 건 t.me/+Sp4reR00mXy12"),
    ],
)  # fmt: skip
def test_person_and_room_rules_flag_abuse_and_not_the_look_alike(
    scanner: Scanner, abuse: str, rule: str, benign: str
) -> None:
    flagged, s = flag(scanner, abuse)
    assert flagged, (abuse, [r.id for r in s.rules], s.reading)
    assert rule in {r.id for r in s.rules}
    flagged, s = flag(scanner, benign)
    assert not flagged, (benign, [r.id for r in s.rules], s.reading)


def test_news_framing_keeps_the_person_rules_quiet(scanner: Scanner) -> None:
    report = "경찰은 피의자가 동기 사진과 전화번호를 함께 올린 것으로 보고 수사 중이라고 밝혔다"
    flagged, s = flag(scanner, report)
    assert not flagged, [r.id for r in s.rules]


@pytest.mark.parametrize(
    ("text", "term"),
    [
        # "nude" + the "s" of "send" used to hide "send a photo"
        ("who wants their classmate nude? send a photo", "intent.en.photo"),
        # "her" inside "there" used to hide "replacement for"
        ("this is the replacement for the group they deleted", "intent.en.move"),
    ],
)
def test_a_rejected_latin_match_does_not_hide_the_next_word(
    scanner: Scanner, text: str, term: str
) -> None:
    result = scanner.matcher.scan(text)
    scanner.matcher.resolve(result)
    assert term in {c.term_id for c in result.intent}


def test_latin_words_still_need_their_boundaries(scanner: Scanner) -> None:
    hit = {f.term_id for f in scanner.scan("undressing bot, free trial").result.findings}
    assert "en.undress" in hit
    assert not scanner.scan("fundressources for the school").result.findings
    assert {f.term_id for f in scanner.scan("раздеться бот").result.findings} == {"ru.razdet"}
