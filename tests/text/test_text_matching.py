"""Normalisation and lexicon matching: evasions are undone, benign look-alikes are not hits,
and every span points at the original text."""

from __future__ import annotations

from pathlib import Path

import pytest

from haechi.analyze.text.lexicon import load_lexicon
from haechi.analyze.text.matcher import Matcher
from haechi.analyze.text.normalize import normalize
from haechi.domain import UsageError


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_lexicon())


def terms(m: Matcher, text: str) -> list[str]:
    return [f.term_id for f in m.scan(text).findings]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("지인능욕 해드립니다", "ko.jiin_neungyok"),
        ("지인 능욕 해드립니다", "ko.jiin_neungyok"),  # spacing variant
        ("지.인.능.욕 문의", "ko.jiin_neungyok"),  # separators
        ("지\u200b인\u200d능욕", "ko.jiin_neungyok"),  # zero-width characters
        ("ㅈㅣㅇㅣㄴ능욕", "ko.jiin_neungyok"),  # typed as compatibility jamo
        ("지인능욕을 당했다", "ko.jiin_neungyok"),  # attached particle
        ("○○능욕방 입장 링크", "ko.neungyok_bang"),
        ("겹지방 있나요", "ko.gyeopjiin_bang"),
        ("합사방 20000원", "ko.hapsabang"),
        ("옷 벗겨 드림", "ko.beotgigi"),
        ("ｎｕｄｉｆｙ any photo", "en.nudify"),  # full-width letters
        ("nud1fy any photo", "en.nudify"),  # digit for letter
        ("undr\u0435ss anybody", "en.undress"),  # Cyrillic e inside a Latin word
        ("Undressing girls for free", "en.undress"),  # inflection
        ("ñúdify", "en.nudify"),  # accents
        ("бот раздевает любую", "ru.razdet"),
        ("pаздеть", "ru.razdet"),  # Latin p inside a Cyrillic word
        ("AI脱衣 免费", "zh.tuoyi"),
        ("一鍵脫衣", "zh.tuoyi"),  # traditional characters
        ("ｱｲｺﾗ 作ります", "ja.aikora"),  # half-width katakana
        ("desnuda a chicas gratis", "es.desnudar"),
        ("il bot che spoglia le donne", "it.spogliare"),
        ("딥페이크봇 링크", "ko.deepfake"),
    ],
)
def test_evasions_are_matched(matcher: Matcher, text: str, expected: str) -> None:
    assert expected in terms(matcher, text)


@pytest.mark.parametrize(
    "text",
    [
        "가능 욕구가 생겼다",  # 능욕 across a word boundary
        "다이아몬드 반지를 샀어요",  # 다이아 inside a longer word (kiwipiepy)
        "합성수지 공장 견학",  # chemistry
        "귤 껍질 벗기기 대회",  # peeling
        "새 방법을 찾았다",  # 새방 across words (kiwipiepy)
        "fundressources are limited",
        "a strip of paper",
        "오늘 스터디 몇 시에 시작해요?",
    ],
)
def test_benign_lookalikes_are_not_hits(matcher: Matcher, text: str) -> None:
    signals = [f.term_id for f in matcher.scan(text).findings if f.points > 0]
    assert signals == []


def test_spans_point_at_the_original(matcher: Matcher) -> None:
    for text in [
        "앞말 지\u200b인 능욕방 뒷말",
        "ㅈㅣㅇㅣㄴ능욕",
        "xx ｎｕｄｉｆｙ yy",
        "㈜ 합성사진",
    ]:
        result = matcher.scan(text)
        assert result.findings, text
        for f in result.findings:
            assert text[f.start : f.end] == f.matched
            assert f.matched.strip() == f.matched


def test_normalized_form_and_origin_map() -> None:
    n = normalize("ＡＢ지\u200b인")
    assert n.text == "ab지인"
    assert n.origin is not None and n.to_original(2, 4) == (2, 5)
    plain = normalize("plain text")
    assert plain.origin is None and plain.squeezed == "plaintext"
    assert normalize("좋아ㅋㅋ").text == "좋아ㅋㅋ"  # consonant-only jamo stay jamo


def test_patterns_and_context(matcher: Matcher) -> None:
    post = matcher.scan("○○고 07년생 ○○○ 아시는 분? 갠텔 주세요")
    ids = {p.pattern_id for p in post.patterns}
    assert {"school_birthyear", "ask_know", "masked_name"} <= ids
    news = matcher.scan("연합뉴스 기자: 경찰은 딥페이크 범죄 처벌을 강화한다고 밝혔다")
    assert {c.category for c in news.context} == {"news"}


def test_other_phenomenon_is_recorded_without_weight(matcher: Matcher) -> None:
    found = matcher.scan("섹트 계정").findings
    assert [f.term_id for f in found] == ["ko.sekt"] and found[0].points == 0


def test_every_language_of_the_lexicon_is_present() -> None:
    lex = load_lexicon()
    langs = {t.lang for t in lex.terms if t.role == "signal"}
    assert {"ko", "en", "ru", "zh", "ja", "es", "it"} <= langs
    assert all(t.notes or t.ref or t.role == "context" for t in lex.terms)
    strengths = {t.strength for t in lex.terms}
    assert {"high", "medium", "low"} <= strengths


def test_an_analyst_file_adds_terms_and_changes_the_version(tmp_path: Path) -> None:
    base = load_lexicon()
    extra = tmp_path / "lexicon"
    extra.mkdir()
    (extra / "local.toml").write_text(
        '[[term]]\nid = "local.coffee"\nlang = "ko"\nforms = ["커피 합성 공장"]\n'
        'strength = "high"\ncategory = "compositing"\nnotes = "test"\n\n'
        '[[rule]]\nid = "local.rule"\nscope = "message"\nall = ["term:local.coffee", '
        '"entity:tg_invite"]\npoints = 3\nexplain = "test rule"\n',
        encoding="utf-8",
    )
    lex = load_lexicon(extra)
    assert lex.version != base.version and lex.version.split("+")[0] == base.version.split("+")[0]
    m = Matcher(lex)
    assert "local.coffee" in [f.term_id for f in m.scan("커피합성공장 오픈").findings]
    assert any(r.id == "local.rule" for r in lex.rules)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[[term]]\nid = "x"\nforms = ["a"]\nstrength = "huge"\n', "strength"),
        ('[[term]]\nid = "x"\nforms = []\n', "at least one form"),
        ('[[term]]\nid = "x"\nforms = ["a"]\ncolour = "red"\n', "unknown keys"),
        ('[[pattern]]\nid = "p"\nregex = "([a-"\n', "does not compile"),
        ('[[rule]]\nid = "r"\nall = ["term:nope"]\n', "unknown term"),
        ('[[rule]]\nid = "r"\nall = ["colour:red"]\n', "kind:value"),
        ("this is = not toml [", "TOML"),
        # values of the wrong type: each crashed the loader (TypeError, AttributeError,
        # ValueError) instead of refusing the file
        ('term = "x"\n', r"\[\[term\]\] tables"),
        ('[term]\nid = "x"\n', r"\[\[term\]\] tables"),
        ('[[term]]\nid = "x"\nforms = ["a"]\nstrength = ["high"]\n', "strength"),
        ('[[term]]\nid = "x"\nforms = ["a"]\nrole = {a = 1}\n', "role"),
        ('[[term]]\nid = "x"\nforms = ["a"]\nweight = true\n', "weight"),
        ('[[pattern]]\nid = "p"\nregex = "a"\npoints = "many"\n', "points"),
        ('[[rule]]\nid = "r"\nall = ["term:x"]\nscope = ["room"]\n', "scope"),
        ('[[rule]]\nid = "r"\nall = ["intent:move"]\npoints = 1e300\n', "points"),
        ("strengths = 3\n", r"\[strengths\] must be a table"),
        ('sources = "news"\n', r"\[sources\] must be a table"),
        ("scoring = 1\n", r"\[scoring\] must be a table"),
        ('[scoring]\nscale = "wide"\n', "scoring.scale"),
        ('[scoring]\nlevels = { high = "x" }\n', "scoring.levels.high"),
        ("[scoring]\nnews_min_hits = nan\n", "scoring.news_min_hits"),
    ],
)
def test_bad_analyst_files_fail_with_a_sentence(tmp_path: Path, body: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(UsageError, match=needle):
        load_lexicon(None, [path])
