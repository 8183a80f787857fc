"""Evasion forms derived from the lexicon (initial consonants, spellings by ear, romanised
Korean, Hangul loanwords, mixed scripts, symbols for letters) and the guards that keep
ordinary chat from matching them."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haechi.analyze.text.hangul import (
    INITIALS,
    chosung,
    compose,
    fold_light,
    fold_light_tracked,
    parts,
    roman_fold,
    romanise,
    sound_key,
)
from haechi.analyze.text.lexicon import load_lexicon
from haechi.analyze.text.loanwords import hangulize
from haechi.analyze.text.matcher import Matcher
from haechi.analyze.text.normalize import fold_leet, normalize
from haechi.analyze.text.scan import Scanner
from haechi.analyze.text.variants import Variants, _Table

BENIGN_CHAT = Path(__file__).resolve().parents[2] / "eval" / "data" / "lexicon_benign_chat.txt"
syllables = st.integers(0xAC00, 0xD7A3).map(chr)
hangul_words = st.text(alphabet=syllables, min_size=1, max_size=8)


def hits(scanner: Scanner, text: str) -> list[tuple[str, str]]:
    return [(f.term_id, f.via) for f in scanner.scan(text).result.findings]


# ---- Hangul arithmetic ---------------------------------------------------------------
@settings(max_examples=300)
@given(st.integers(0, 18), st.integers(0, 20), st.integers(0, 27))
def test_syllables_decompose_and_recompose(lead: int, vowel: int, final: int) -> None:
    ch = compose(lead, vowel, final)
    assert parts(ch) == (lead, vowel, final)
    assert chosung(ch) == INITIALS[lead]
    assert unicodedata.normalize("NFC", unicodedata.normalize("NFD", ch)) == ch


@settings(max_examples=300)
@given(st.text(alphabet=st.one_of(syllables, st.sampled_from("ㄱㅋab 1")), max_size=20))
def test_chosung_and_sound_keys_keep_length_and_are_idempotent(text: str) -> None:
    for key in (chosung, sound_key):
        once = key(text)
        assert len(once) == len(text) and key(once) == once
    # a word's initials are its sound key's initials: spellings by ear keep the consonants
    # ... except tense ones, which are read as plain
    plain = chosung(sound_key(text))
    assert len(plain) == len(text)


@settings(max_examples=300)
@given(hangul_words)
def test_a_romanised_word_folds_like_its_informal_spellings(word: str) -> None:
    key = roman_fold(romanise(word))
    assert roman_fold(key) == key  # the key of a key is itself
    spaced = "-".join(romanise(c) for c in word)  # "ji-in-neung-yok"
    assert roman_fold(spaced.replace("-", "")) == key
    # whole messages are searched with the light fold and each key letter repeatable
    table = _Table()
    table.keys[key] = []
    table.compile(repeat=True)
    assert table.regex is not None and table.regex.fullmatch(fold_light(romanise(word)))


@settings(max_examples=500)
@given(st.text(alphabet="abcdeghijklmnoprstuwxyz 1가-", max_size=40))
def test_the_light_fold_maps_back_to_its_input(text: str) -> None:
    folded, spans = fold_light_tracked(text)
    assert folded == fold_light(text) and len(spans) == len(folded)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert [a for a, _ in spans] == sorted(a for a, _ in spans)


@settings(max_examples=500)
@given(st.text(alphabet="abcdeghijklmnoprstuwxyz 1가-", max_size=40))
def test_roman_fold_is_idempotent(text: str) -> None:
    assert roman_fold(roman_fold(text)) == roman_fold(text)


@pytest.mark.parametrize(
    ("word", "spellings"),
    [
        ("지인능욕", ["jiin neungyok", "ji-in nungyok", "jiinnungyog", "JIIN NEUNG-YOK"]),
        ("합성", ["hapseong", "hapsung", "habsung", "hap-sung"]),
        ("겹지인방", ["gyeopjiin bang", "gyupjiinbang", "kyeopjiin bang"]),
        ("대피방", ["daepibang", "taepi bang", "daepi-bang"]),
    ],
)
def test_informal_romanisations_meet_the_revised_romanization(
    word: str, spellings: list[str]
) -> None:
    key = roman_fold(romanise(word))
    for spelt in spellings:
        assert roman_fold("".join(c for c in spelt.lower() if c.isalpha())) == key, spelt


def test_revised_romanization() -> None:
    assert romanise("지인능욕") == "jiinneungyok"
    assert romanise("겹지인") == "gyeopjiin"
    assert romanise("합니다") == "hapnida" and romanise("합니다", assimilate=True) == "hamnida"


@pytest.mark.parametrize(
    ("english", "hangul"),
    [
        ("deepfake", "딥페이크"),  # the lexicon's own Korean term for it
        ("nudify", "누디파이"),
        ("undress", "언드레스"),
        ("deepnude", "딥누드"),
        ("cloth off", "클로스 오프"),
        ("face swap", "페이스 스왑"),
        ("fake nude", "페이크 누드"),
        ("bot", "봇"),
        ("undresser", "언드레서"),
    ],
)
def test_english_words_in_hangul(english: str, hangul: str) -> None:
    assert hangulize(english) == hangul


def test_spellings_by_ear_meet_the_same_key() -> None:
    key = sound_key("딥페이크")
    for spelt in ("딮페이크", "딥패이크", "딥폐이크"):
        assert sound_key(spelt) == key
    assert sound_key("능욬빵") == sound_key("능욕방")
    assert sound_key("합썽") == sound_key("합성")
    assert sound_key("딥피이크") != key


# ---- symbols and look-alike letters -------------------------------------------------
@settings(max_examples=500)
@given(st.text(alphabet="abcdefs$@!|€¡ 5", max_size=30))
def test_leet_folding_keeps_length_and_is_idempotent(text: str) -> None:
    once = fold_leet(text)
    assert len(once) == len(text) and fold_leet(once) == once


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("nud!fy", "nudify"),
        ("undre$$ her", "undress her"),
        ("str|p", "strlp"),
        ("f@ke", "fake"),
        ("@name_bot", "@name_bot"),  # a mention stays one
        ("free!", "free!"),  # and an exclamation mark a mark
        ("$5 off", "$5 off"),
    ],
)
def test_symbols_read_as_letters_inside_latin_words(text: str, folded: str) -> None:
    assert fold_leet(text) == folded
    assert normalize(text).text == folded


# ---- derived forms in the matcher -----------------------------------------------------
@pytest.mark.parametrize(
    ("text", "term", "via"),
    [
        ("ㅈㅇㄴㅇ 가능한 분", "ko.jiin_neungyok", "chosung"),
        ("ㅈㅇㄴㅇ방 들어갈 사람", "ko.neungyok_bang", "chosung"),
        ("ㅈㅇ능욕 가능?", "ko.jiin_neungyok", "chosung"),
        ("얼굴 ㅎㅅ 해줄 분", "ko.nude_hapseong", "chosung"),
        ("ㄱㅈㅂ 링크 t.me/+AbC123xyz9", "ko.gyeopjiin_bang", "chosung_short"),
        ("jiin neung-yok anyone?", "ko.jiin_neungyok", "roman"),
        ("gyupjiinbang invite", "ko.gyeopjiin_bang", "roman"),
        ("hapsung-eul", "ko.hapseong", "roman"),
        ("딮페이크 영상 의뢰", "ko.deepfake", "sound"),
        ("능욬방 인원", "ko.neungyok_bang", "sound"),
        ("누디파이 봇", "en.nudify", "loanword"),
        ("언드레스 앱", "en.undress", "loanword"),
        ("딥fake 의뢰", "ko.deepfake", "mixed"),
        ("deep페이크 작업", "ko.deepfake", "mixed"),
        ("nud!fy anyone", "en.nudify", ""),
        ("c1othoff clone", "en.clothoff", ""),
        ("\u1d1c\u0274\u1d05\u0280\u1d07ss bot", "en.undress", ""),
    ],
)
def test_derived_forms_are_found(scanner: Scanner, text: str, term: str, via: str) -> None:
    assert (term, via) in hits(scanner, text)


def test_derived_hits_point_at_the_original(scanner: Scanner) -> None:
    for text in ("앞 ㅈㅇㄴㅇ방 뒤", "x jiin neungyok y", "딮페이크!", "링크 딥fake봇", "누디파이"):
        found = scanner.scan(text).result.findings
        assert found, text
        for f in found:
            assert text[f.start : f.end] == f.matched and f.matched.strip() == f.matched


@pytest.mark.parametrize(
    "text",
    [
        "ㄴㅇㄱ 이게 되네",  # a chat meme; also the initials of 능욕글: no context, no hit
        "ㅂㅇㅂ 바이바이",  # bye-bye; also 백업방's
        "ㅂㅇㅂㅇ 다음에 또",  # the run goes on: not a whole token
        "ㅋㅋㅈㅇㄴㅇ",  # the run does not start a word
        "ㅎㅅ 혹시 시간 돼?",  # two consonants alone are never a hit
        "ㄴㅇ 나는 안 감",
        "the center of town",  # folds like 갠텔's romanisation: an English word, dropped
        "Hapcheon and Seongnam",
        "박재범 콘서트 예매",  # 박제 by ear, but a name
        "누드톤 립스틱",
        "딥러닝 model",
    ],
)
def test_ordinary_chat_is_not_a_derived_hit(scanner: Scanner, text: str) -> None:
    derived = [f for f in scanner.scan(text).result.findings if f.via]
    assert derived == []


def test_benign_chat_corpus_has_no_initials_hit_and_nothing_flagged(scanner: Scanner) -> None:
    lex = scanner.lexicon
    lines = BENIGN_CHAT.read_text(encoding="utf-8").splitlines()
    texts = [x for x in lines if x and not x.startswith("#")]
    assert len(texts) > 100
    for text in texts:
        scan = scanner.scan(text)
        assert not any(f.via.startswith("chosung") for f in scan.result.findings), text
        assert scan.points(lex) < lex.scoring.message_flag, text


def test_three_consonants_need_context(scanner: Scanner) -> None:
    assert hits(scanner, "ㅂㅇㅂ 좀") == []
    assert ("ko.standby_room", "chosung_short") in hits(scanner, "ㅂㅇㅂ 링크 t.me/+AbC123xyz9")
    assert ("ko.hapsabang", "chosung_short") in hits(scanner, "ㅎㅅㅂ 입장료 만원")


def test_guards_drop_forms_a_dictionary_spells_otherwise() -> None:
    lex = load_lexicon()
    free = Variants(lex.terms, words=["사과"])
    assert "박재방" in free.sound.keys  # 박제방 as it sounds
    assert any(form == "누디파이" for _t, form in free.loan)
    guarded = Variants(lex.terms, words=["사과", "김박재방", "누디파이랜드"])
    assert "박재방" not in guarded.sound.keys
    assert not any(form == "누디파이" for _t, form in guarded.loan)


def test_derived_forms_can_be_switched_off() -> None:
    lex = load_lexicon()
    assert not any(f.via for f in Matcher(lex, derived=False).scan("ㅈㅇㄴㅇ 누디파이").findings)


def test_evasive_spellings_are_intent_but_a_quoted_one_is_a_mention(scanner: Scanner) -> None:
    lex = scanner.lexicon
    chat = scanner.scan("ㅈㅇㄴㅇ 해드림")
    assert "evasion" in chat.reading.intents and chat.points(lex) >= lex.scoring.message_flag
    news = scanner.scan("경찰은 'ㅈㅇㄴㅇ' 같은 초성 은어를 쓰는 방을 수사했다고 밝혔다")
    assert "evasion" not in news.reading.intents and news.news_like
    assert news.points(lex) < lex.scoring.message_flag
    roman = scanner.scan("Police said so-called jiin neungyok rooms were shut, Yonhap reported")
    assert "evasion" not in roman.reading.intents  # romanising is not evading


# ---- backup rooms -------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "방 터지면 여기로 t.me/+AbC123xyz9",
        "정지됨, 이쪽으로 이동 @next_room_demo",
        "if this channel dies join the backup: t.me/+AbC123xyz9",
    ],
)
def test_move_after_a_ban_with_a_room_link_is_a_backup_post(scanner: Scanner, text: str) -> None:
    assert "backup_move_after_ban" in [r.id for r in scanner.scan(text).rules]


@pytest.mark.parametrize(
    "text",
    [
        "길드방 인원 초과로 새 방 팠어요 t.me/+GuildNew01",
        "태풍 북상, 대피 장소가 변경되었습니다. 새 주소는 구청 홈페이지 참고",
        "지진 발생 시 책상 아래로 대피 후 집결지로 이동",
        "Evacuation notice: residents move to the shelter, link to the map in the notice",
    ],
)
def test_moves_without_a_ban_and_a_link_are_not(scanner: Scanner, text: str) -> None:
    scan = scanner.scan(text)
    assert "backup_move_after_ban" not in [r.id for r in scan.rules]
    assert scan.points(scanner.lexicon) < scanner.lexicon.scoring.message_flag
