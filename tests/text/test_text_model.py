"""The message model (haechi.analyze.text.model) and how the scanner uses it: trained on
the tuning data only, its finding needs an anchor and no benign context, a message it reads
as benign among public-safety cues is discounted, and its version is in the scan version."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haechi.analyze.text import model as M
from haechi.analyze.text.lexicon import load_lexicon
from haechi.analyze.text.scan import MODEL_RULE, Scanner, _thing_of_someone

EVAL = Path(__file__).resolve().parents[2] / "eval" / "data"


def test_shipped_model_is_trained_on_tuning_data_only() -> None:
    """Never on the held-out set (N since engine m14); A to I retired into training in m10,
    J and K in m12, L in m13, M in m14."""
    m = M.load_model()
    assert m.trained_on and "lexicon_heldout_n.jsonl" not in m.trained_on
    retired = {f"lexicon_heldout_{x}.jsonl" for x in "jklm"}
    assert retired <= set(m.trained_on)
    assert all(not name.startswith("lexicon_heldout_") or name < "lexicon_heldout_n"
               for name in m.trained_on)  # fmt: skip
    assert not (m.jamo or m.gated or m.squeeze)  # engine m14: measured and off
    assert 0 < m.benign < m.flag < m.sure < 1 and m.points > 0
    assert len(m.weights) > 1000


def test_scan_version_names_the_model(model_scanner: Scanner, scanner: Scanner) -> None:
    m = M.load_model()
    assert model_scanner.version.endswith(f"+{m.version}")
    assert scanner.model is None and "+t" not in scanner.version.split("/")[1]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_features_are_those_of_the_normalised_text(text: str) -> None:
    norm = M.normalise(text)
    feats = M.features(text)
    assert all(g in norm and not g.isspace() and 1 <= len(g) <= 3 for g in feats)
    assert M.features(text) == M.features(text.replace(" ", "  "))  # spacing collapses


def test_links_handles_and_digits_are_placeholders() -> None:
    a = M.normalise("새 방 t.me/+AbC123xyz @room_one 3기")
    b = M.normalise("새 방 t.me/+Zz9988qq @other_two 7기")
    assert a == b and "ⓛ" in a and "ⓐ" in a


def test_fit_separates_a_toy_set() -> None:
    pos = ["사진 보내 작업 ㄱ", "걔 사진 작업 가능", "사진 줘 작업해줌"]
    neg = ["오늘 날씨 맑음", "점심 뭐 먹지", "회의 3시에 시작"]
    bias, w = M.fit(pos + neg, [True] * 3 + [False] * 3, iterations=300)
    m = M.MessageModel("x", bias, w, 0.6, 4.0, 0.2)
    assert m.score("그 사진 작업 ㄱ") > 0.5 > m.score("오늘 점심 맑음")
    assert "작" in m.explain("사진 작업") or "작업" in m.explain("사진 작업")


def test_toml_round_trip(tmp_path: Path) -> None:
    m = M.MessageModel("t9.abc", 0.5, {'"q': 1.25, " ㄱ": -0.5, "\\": 0.1}, 0.6, 4.0, 0.2, ("a",))
    back = M.from_toml(m.to_toml())
    assert back == m
    full = M.MessageModel("t3.abc", 0.5, {"m:사진/NN": 1.0}, 0.6, 4.0, 0.2, ("a",), 0.97,
                          0.05, sure=0.9, morphemes=True, top_n=7, min_score=0.55)  # fmt: skip
    assert M.from_toml(full.to_toml()) == full
    cued = dataclasses.replace(full, version="t4.abc", weights={"p:person+photo_noun": 1.5},
                               cues=True)  # fmt: skip
    assert M.from_toml(cued.to_toml()) == cued


def test_cue_features_are_the_lexicons_categories_and_their_pairs() -> None:
    """Engine m10: the lexicon's reading as features, so a person, her photo and the work
    asked for read alike in words the training data never had."""
    from haechi.analyze.text.matcher import Matcher

    matcher = Matcher(load_lexicon())
    feats = M.cue_features(matcher.scan("후배 사진 다 긁어왔습니다 작업 순서대로"))
    assert {"c:intent:person", "c:intent:photo_noun", "c:intent:work"} <= feats
    assert {"p:person+photo_noun", "p:photo_noun+work", "p:person+work"} <= feats
    assert M.cue_features(matcher.scan("오늘 점심 뭐 먹지")) == set()
    news = M.cue_features(matcher.scan("police arrested the bot operators, the news says"))
    assert "c:context:news" in news and not any(f.startswith("p:") for f in news)


def test_a_cue_model_reads_new_words_by_their_categories() -> None:
    """Weights on cue pairs alone: two messages with no word in common but the same shape
    (a person named by her relation, her photo, work asked for) score alike; the n-gram
    model cannot see that, and a model without ``cues`` ignores such weights."""
    w = {"p:person+photo_noun": 3.0}
    cued = M.MessageModel("t4.x", -1.0, w, 0.5, 4.0, 0.2, cues=True)
    a, b = "후배 사진 작업 부탁", "동기 셀카 작업해 주실 분"
    assert "p:person+photo_noun" in cued.featurize(a) and "p:person+photo_noun" in cued.featurize(b)
    assert cued.score(a) == cued.score(b) > 0.85
    plain = dataclasses.replace(cued, cues=False)
    assert plain.score(a) == plain.score(b) < 0.3
    assert cued.explain(a, k=1) == ["[person+photo_noun]"]


def test_the_scanner_reads_the_cues_the_model_was_trained_on(model_scanner: Scanner) -> None:
    """The scanner hands the model its own match (no second matching); for the shipped
    lexicon that gives the features training gave (training matches each text itself)."""
    m = dataclasses.replace(M.load_model(), cues=True)
    rows = [json.loads(x) for x in (EVAL / "lexicon_dev_k.jsonl").read_text("utf-8").splitlines()]
    for r in rows[:30]:
        text = r["text"]
        assert m.featurize(text, model_scanner.matcher.scan(text)) == m.featurize(text)


def test_sparse_fit_is_the_dense_objective() -> None:
    """The sparse trainer (engine m9's) follows the same iterations as the dense one it
    replaced: same weights on a toy set."""
    import numpy as np

    texts = [
        "사진 보내 작업 ㄱ",
        "걔 사진 작업 가능",
        "오늘 날씨 맑음",
        "점심 뭐 먹지",
        "사진 예쁘다",
    ]
    labels = [True, True, False, False, False]
    bias, w = M.fit(texts, labels, iterations=200)
    vocab: dict[str, int] = {}
    rows = [sorted(vocab.setdefault(g, len(vocab)) for g in M.features(t)) for t in texts]
    x = np.zeros((len(texts), len(vocab) + 1))
    for i, idx in enumerate(rows):
        x[i, idx] = 1.0
    x[:, -1] = 1.0
    y = np.array(labels, dtype=float)
    sw = np.where(y > 0, len(y) / (2 * y.sum()), len(y) / (2 * (len(y) - y.sum())))
    reg = np.full(x.shape[1], 1.0)
    reg[-1] = 0.0
    dense, v = np.zeros(x.shape[1]), np.zeros(x.shape[1])
    for _ in range(200):
        look = dense + 0.9 * v
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ look, -30, 30)))
        v = 0.9 * v - 0.5 * (x.T @ (sw * (p - y)) + reg * look) / len(y)
        dense = dense + v
    inv = {i: g for g, i in vocab.items()}
    assert bias == round(float(dense[-1]), 4)
    assert w == {inv[i]: round(float(dense[i]), 4) for i in inv if abs(dense[i]) >= 1e-3}


def test_fit_reads_the_features_it_is_given() -> None:
    texts = ["a b", "c d", "a c", "b d"]
    _bias, w = M.fit(texts, [True, False, True, False], featurize=lambda t: set(t.split()))
    assert set(w) <= {"a", "b", "c", "d"} and w["a"] > 0 > w["d"]


def test_morpheme_features_read_words_as_their_neighbours() -> None:
    """Engine m9 measured (and left off) kiwipiepy morphemes and their CoNg neighbours as
    features: each content morpheme is ``m:``, it and its nearest morphemes ``e:``."""
    pytest.importorskip("kiwipiepy")
    feats = M.morpheme_features("걔 사진 전부 긁어옴", 5, 0.5)
    assert {"m:사진/NN", "e:사진/NN", "m:걔/NP"} <= feats
    assert len([f for f in feats if f.startswith("e:")]) > 3  # neighbours too
    assert not any(f.startswith("e:") for f in M.morpheme_features("걔 사진", 0, 0.5))
    assert M.neighbours("사진", "NNG", 5, 0.5) == M.neighbours("사진", "NNG", 5, 0.5)  # cached
    m = M.MessageModel("x", 0.0, {"e:사진/NN": 2.0}, 0.5, 4.0, 0.2, morphemes=True, top_n=5,
                       min_score=0.5)  # fmt: skip
    assert M.features("걔 사진") < m.featurize("걔 사진") and m.score("걔 사진") > 0.85
    assert m.explain("걔 사진") == ["≈사진/NN"]


def test_the_shipped_model_reads_only_what_it_could_change(model_scanner: Scanner) -> None:
    s = model_scanner.scan("걔 페북 사진 전부 긁어옴 옷만 바꾸면 될 듯")  # a tuning line
    assert s.model_p is not None and s.model_p >= 0.6
    assert model_scanner.scan("사진 줘").model_p is None  # two words
    assert model_scanner.scan("오늘 저녁 뭐 먹을까 다들").model_p is None  # no anchor


def always(p: float, strong: float = 1.0, clear: float = 0.0) -> M.MessageModel:
    """A stub model that gives every message probability ``p`` (tests the gating alone)."""
    z = 0.0 if p == 0.5 else __import__("math").log(p / (1 - p))
    return M.MessageModel("stub", z, {}, 0.6, 4.0, 0.2, strong=strong, clear=clear)


@pytest.fixture(scope="module")
def sure() -> Scanner:
    return Scanner(load_lexicon(), model=always(0.99))


@pytest.fixture(scope="module")
def doubtful() -> Scanner:
    return Scanner(load_lexicon(), model=always(0.05))


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        ("걔 페북 사진 전부 긁어옴 옷만 바꾸면 될 듯", True),  # person + photo: anchors
        ("결혼식 사진 보정해줄 사람 구함 포토샵 가능한 분", False),  # photo editing sense
        ("경찰은 피의자가 사진을 넘겼다고 밝혔다 검거", False),  # news
        ("오늘 저녁 뭐 먹을까 다들", False),  # no anchor at all
        ("@study_buddy_19 Where is the practice test?", False),  # a mention is no anchor
        ("사진 줘", False),  # two words
        ("포토샵 사진 t.me/+AbCdEf123456 여기로", True),  # a room link outweighs the sense
    ],
)
def test_model_finding_gating(sure: Scanner, text: str, fires: bool) -> None:
    s = sure.scan(text)
    assert any(r.id == MODEL_RULE for r in s.rules) is fires, (s.reading, s.rules)
    if fires:
        assert s.points(sure.lexicon) >= 4 and "message model" in s.rules[-1].explain


def test_public_context_discounts_what_the_model_reads_as_benign(
    doubtful: Scanner, scanner: Scanner
) -> None:
    lex = scanner.lexicon
    text = "합성 사진 때문에 힘드시면 24시간 상담 전화 1366으로 연락 주세요"
    assert scanner.scan(text).points(lex) >= 4  # the lexicon alone flags it
    s = doubtful.scan(text)
    assert s.news_like and s.points(lex) < 4
    # A room link is evidence: the same words are then not read as benign.
    linked = doubtful.scan(text + " t.me/+AbCdEf123456")
    assert not linked.news_like and linked.points(lex) >= 4
    # Without public-safety cues a low probability changes nothing.
    plain = "합성 사진 해드림 가격 문의"
    assert doubtful.scan(plain).points(lex) == scanner.scan(plain).points(lex)


def test_training_reproduces_the_shipped_weights(tmp_path: Path) -> None:
    """The weights file is what the trainer makes from the files it names (no hand edits)."""
    shipped = M.load_model()
    paths = [EVAL / name for name in shipped.trained_on]
    assert all(p.exists() for p in paths)
    labels: set[str] = set()
    for p in paths:  # the training files hold labelled messages only (one: benign chat)
        rows = [json.loads(x) for x in p.read_text("utf-8").splitlines() if x.strip()]
        assert rows and {r["label"] for r in rows} <= {"abuse", "benign"}
        labels |= {r["label"] for r in rows}
    assert labels == {"abuse", "benign"}
    again = M.train(
        paths, shipped.flag, shipped.points, shipped.benign, shipped.strong, shipped.clear,
        shipped.sure, shipped.morphemes, shipped.top_n, shipped.min_score, shipped.cues,
        shipped.second, shipped.squeeze, shipped.c, shipped.jamo, shipped.gated,
    )  # fmt: skip
    assert again.version == shipped.version
    same = sum(abs(again.weights.get(g, 0.0) - w) < 1e-3 for g, w in shipped.weights.items())
    assert same / len(shipped.weights) > 0.99


def test_lexicon_alone_equals_the_model_off() -> None:
    lex = load_lexicon()
    off = Scanner(lex, model=None)
    text = "지.인.능.욕 방 링크 팝니다"
    assert off.scan(text).model_p is None and off.scan(text).points(lex) >= 4


# Engine m7: a topic word lets the model read a message without an anchor, and its finding
# then needs ``strong``; ``clear`` discounts what the model reads as clearly benign.
UNANCHORED = "이 채널 곧 없어지니까 다들 조금만 기다려"  # a topic word (채널), no anchor cue


@pytest.mark.parametrize(("p", "fires"), [(0.9, True), (0.7, False)])
def test_a_sure_model_needs_no_anchor(p: float, fires: bool) -> None:
    sc = Scanner(load_lexicon(), model=always(p, strong=0.85))
    s = sc.scan(UNANCHORED)
    assert s.model_p == pytest.approx(p)
    assert any(r.id == MODEL_RULE for r in s.rules) is fires
    # Without the strong tier (the m6 reading) the message is not read at all.
    assert Scanner(load_lexicon(), model=always(p)).scan(UNANCHORED).model_p is None


def test_the_strong_tier_reads_only_messages_with_a_topic_word() -> None:
    sc = Scanner(load_lexicon(), model=always(0.99, strong=0.85))
    assert sc.scan("오늘 저녁 뭐 먹을까 다들").model_p is None
    assert sc.scan("the weather is nice today").model_p is None
    # Sure or not, benign context still holds it back: a shelter's group is not a room.
    s = sc.scan("대피소 안내 채널 이전했습니다 민방위 공지 참고")
    assert s.model_p is not None and not any(r.id == MODEL_RULE for r in s.rules)


def test_clear_discounts_what_the_model_reads_as_clearly_benign(scanner: Scanner) -> None:
    lex = scanner.lexicon
    text = "Authorities shut down a nudify service used by thousands of students"
    assert scanner.scan(text).points(lex) >= 4  # the lexicon alone flags it
    s = Scanner(lex, model=always(0.01, clear=0.05)).scan(text)
    assert s.news_like and s.points(lex) < 4
    # Not clear enough, or a bot named beside it: the lexicon's reading stands.
    assert Scanner(lex, model=always(0.1, clear=0.05)).scan(text).points(lex) >= 4
    linked = Scanner(lex, model=always(0.01, clear=0.05)).scan(text + " @nud_demo_bot")
    assert not linked.news_like and linked.points(lex) >= 4


def test_a_two_syllable_context_cue_must_start_a_word(scanner: Scanner) -> None:
    burn = scanner.scan("화상 부위 옷은 억지로 벗기지 마세요")
    assert "first_aid" in burn.reading.kinds
    voucher = scanner.scan("문화상품권으로 결제하면 사진 속 옷 벗겨 드림")
    assert "first_aid" not in voucher.reading.kinds
    assert voucher.points(scanner.lexicon) >= 4


# Engine m8: talk of a room's life, people named by their role and talk of the results are
# cues that only anchor the model (weight 0, no rule reads them): room chatter and
# successor-room posts in words none of the older cues lists were not read at all.
ANCHOR_ONLY = ("room_talk", "role", "result_talk")


@pytest.mark.parametrize(
    "text",
    [
        "여기 곧 닫음 다음 방 가고 싶은 사람 이모지 남겨",  # a room's life
        "이거 진짜 우리 알바 매니저임 ㅋㅋㅋ 대박",  # a person by her role
        "이번 거 퀄 미쳤다 진짜 본인인 줄",  # the results talked about
        "channel's dead, archive reuploaded to the private one, ask for access",
        "yo whose face is this one, looks like someone from my old job",
    ],
)
def test_room_role_and_result_talk_anchor_the_model(
    sure: Scanner, scanner: Scanner, text: str
) -> None:
    s = sure.scan(text)
    assert s.model_p is not None and any(r.id == MODEL_RULE for r in s.rules), s.result.intent
    # The cues alone weigh nothing: the lexicon without the model does not flag them.
    assert scanner.scan(text).points(scanner.lexicon) < scanner.lexicon.scoring.message_flag


def test_anchor_only_cues_serve_no_rule_and_no_context() -> None:
    lex = load_lexicon()
    used = {a for r in lex.rules for alts in r.all for a in alts}
    assert not any(k == "intent" and v in ANCHOR_ONLY for k, v in used)
    terms = [t for t in lex.terms if t.category in ANCHOR_ONLY]
    assert terms and all(t.role == "intent" and t.weight == 0 for t in terms)


@pytest.mark.parametrize(
    "text",
    [
        "채널 날아가기 전에 미러 떠둔 거 있음 링크 필요하면 말",  # development split k
        "얼굴 잘린 거 말고 전신 나온 거 구해와",
    ],
)
def test_the_shipped_model_reads_chatter_the_older_cues_missed(
    model_scanner: Scanner, text: str
) -> None:
    s = model_scanner.scan(text)
    assert s.points(model_scanner.lexicon) >= model_scanner.lexicon.scoring.message_flag, s.model_p


# Engine m9: a sure reading (``sure``) with an anchor is not held back by one benign sense:
# room talk names the police, the news, a notice or a report ("수사 뉴스 떠서 방 정리함").
NEWS_IN_ROOM_TALK = "수사 뉴스 떠서 방 정리함 살아남은 사람만 여기"  # development split k


@pytest.mark.parametrize(
    ("p", "sure", "fires"),
    [(0.95, 0.9, True), (0.85, 0.9, False), (0.95, 1.0, False), (0.99, 1.0, False)],
)
def test_a_sure_reading_outweighs_a_benign_sense(p: float, sure: float, fires: bool) -> None:
    model = M.MessageModel("stub", math.log(p / (1 - p)), {}, 0.6, 4.0, 0.2, sure=sure)
    s = Scanner(load_lexicon(), model=model).scan(NEWS_IN_ROOM_TALK)
    assert "news" in s.reading.kinds or any(c.category == "news" for c in s.result.context)
    assert any(r.id == MODEL_RULE for r in s.rules) is fires


def test_a_sure_reading_still_needs_an_anchor_and_news_is_still_discounted() -> None:
    lex = load_lexicon()
    model = M.MessageModel("stub", math.log(0.99 / 0.01), {}, 0.6, 4.0, 0.2, sure=0.9)
    sure_scanner = Scanner(lex, model=model)
    assert not sure_scanner.scan("오늘 저녁 뭐 먹을까 다들").rules  # no anchor
    report = "서울경찰청은 '겹지방' 운영자를 검거했다고 밝혔다 피해자 지원은 1366"
    s = sure_scanner.scan(report)
    assert s.news_like and s.points(lex) < lex.scoring.message_flag


# Engine m11: a message with no anchor that names a room or a link and something happening
# to it or in it is read too (the second tier), its finding at the stricter ``second``.
PAIRED = "어제 올라온 거 방 사람들 다 봤음?"  # a room (방) and an upload (올라온), no anchor cue


def second(p: float, at: float = 0.8) -> M.MessageModel:
    return dataclasses.replace(always(p), second=at)


@pytest.mark.parametrize(("p", "fires"), [(0.9, True), (0.7, False)])
def test_the_second_tier_reads_a_room_and_what_happens_to_it(p: float, fires: bool) -> None:
    s = Scanner(load_lexicon(), model=second(p)).scan(PAIRED)
    assert s.model_p == pytest.approx(p)  # read (0.7 is over ``flag``, under ``second``)
    assert any(r.id == MODEL_RULE for r in s.rules) is fires
    # Off (the m10 reading, ``second`` 1.0): the message is not read at all.
    assert Scanner(load_lexicon(), model=always(p)).scan(PAIRED).model_p is None


@pytest.mark.parametrize(
    "text",
    [
        "링크 다시 보내주실 수 있나요?",  # a link, nothing happening to it
        "오늘 다들 뭐 올렸어 궁금",  # an upload, no room
        "발표 자료 올려두었습니다 다들 확인",  # study words are not room words
        "오늘 저녁 뭐 먹을까 다들",
    ],
)
def test_the_second_tier_needs_both_a_room_and_an_event(text: str) -> None:
    assert Scanner(load_lexicon(), model=second(0.99)).scan(text).model_p is None


def test_the_second_tier_is_held_back_by_a_benign_sense_and_keeps_anchored_readings() -> None:
    lex = load_lexicon()
    shelter_chat = "대피소 단톡방 새로 만들었습니다 민방위 공지 참고"
    shelter = Scanner(lex, model=second(0.99)).scan(shelter_chat)
    assert shelter.model_p is not None and not any(r.id == MODEL_RULE for r in shelter.rules)
    # An anchored message still fires at ``flag``, whatever ``second`` is.
    anchored = "예전 방 사람들 거의 다 여기로 왔네"
    s = Scanner(lex, model=second(0.65, at=0.95)).scan(anchored)
    assert any(r.id == MODEL_RULE for r in s.rules)


def test_the_shipped_model_reads_the_second_tier_and_round_trips_it() -> None:
    m = M.load_model()
    assert m.flag < m.second < 1.0
    again = M.from_toml(m.to_toml())
    assert again.second == m.second and again.version == m.version
    assert M.from_toml(m.to_toml().replace(f"second = {m.second!r}\n", "")).second == 1.0


# Engine m12: the n-grams of the text without its spaces (``squeeze``), and a person's "one"
# posted or come out (``누나 거``) read like the room pair at ``second``.
def test_squeezed_ngrams_read_a_text_however_it_is_spaced() -> None:
    assert {"새방", "방링", "새방링"} <= M.squeezed_features("새 방 링크")
    assert M.squeezed_features("새 방 링크") == M.squeezed_features("새방 링 크")
    plain = M.MessageModel("t", 0.0, {"새방": 2.0}, 0.5, 4.0, 0.2)
    squeezed = dataclasses.replace(plain, squeeze=True)
    assert plain.score("새 방 열림") == 0.5 < squeezed.score("새 방 열림")
    assert squeezed.score("새방 열림") == squeezed.score("새 방 열림")


def test_squeeze_and_c_round_trip_and_name_the_version(tmp_path: Path) -> None:
    m = M.MessageModel("t5.abc", 0.5, {"새방": 1.0}, 0.6, 4.0, 0.2, squeeze=True, c=2.0)
    assert M.from_toml(m.to_toml()) == m
    old = M.from_toml(m.to_toml().replace("squeeze = true\n", "").replace("c = 2.0\n", ""))
    assert not old.squeeze and old.c == 1.0  # an older file reads as before
    data = tmp_path / "d.jsonl"
    rows = [("사진 작업 해줌", "abuse"), ("점심 뭐 먹지", "benign")] * 3
    data.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows))
    a = M.train([data], 0.5, 4.0, 0.2)
    b = M.train([data], 0.5, 4.0, 0.2, squeeze=True, c=2.0)
    assert a.version.startswith("t2.") and b.version.startswith("t5.") and b.squeeze
    assert "사진작" in b.weights and "사진작" not in a.weights


THING = "이번 주 올라온 거 중에 농협 직원 거 제일 잘 나옴"  # no anchor cue, no room word


@pytest.mark.parametrize("text", [THING, "그 은행 창구 직원 거 보고 놀람 구분 못 하겠네"])
def test_someones_one_posted_is_read_at_second(text: str) -> None:
    assert Scanner(load_lexicon(), model=always(0.9)).scan(text).model_p is None  # m11
    s = Scanner(load_lexicon(), model=second(0.9)).scan(text)
    assert s.model_p == pytest.approx(0.9) and any(r.id == MODEL_RULE for r in s.rules)
    low = Scanner(load_lexicon(), model=second(0.75)).scan(text)
    assert low.model_p is not None and not any(r.id == MODEL_RULE for r in low.rules)


@pytest.mark.parametrize(
    "text",
    [
        "오늘 올라온 거 다들 봤음",  # the posted one, nobody's
        "엄마 이거 사진 합성한 거 아니야",  # 이거, 한 거: not someone's
        "언니 거 예쁘다 어디서 샀어",  # someone's, nothing posted or made
        "자막팀 끝나고 와봄 지난번에 만든 거 나왔음?",  # a made one, nobody's
    ],
)
def test_the_thing_frame_needs_someone_and_an_event(text: str) -> None:
    assert not _thing_of_someone(text)


def test_jamo_ngrams_read_a_spelling_by_its_letters() -> None:
    """Engine m14 (``jamo``): the 3- and 4-grams of the text's letters, so a dialect
    or a typo that changes one letter of a syllable keeps most of its features."""
    a, b = M.jamo_features("누가 만들었대"), M.jamo_features("누가 맹글었댜")
    assert all(g.startswith("j:") and 3 <= len(g) - 2 <= 4 for g in a | b)
    assert "j:ᅥᆻᄃ" in a & b  # 었 + the next initial, in both spellings
    assert not M.features("만들었대") & M.features("맹글었댜") - M.features("었")
    assert M.jamo_features("새 방") == M.jamo_features("새방")  # spaces dropped
    plain = M.MessageModel("t", 0.0, {"j:ᅥᆻᄃ": 2.0}, 0.5, 4.0, 0.2)
    lettered = dataclasses.replace(plain, jamo=True)
    assert plain.score("누가 맹글었댜") == 0.5 < lettered.score("누가 맹글었댜")


def test_jamo_and_gated_round_trip_and_name_the_version(tmp_path: Path) -> None:
    m = M.MessageModel("t6.abc", 0.5, {"j:새": 1.0}, 0.6, 4.0, 0.2, jamo=True, gated=True)
    assert M.from_toml(m.to_toml()) == m
    old = M.from_toml(m.to_toml().replace("jamo = true\n", "").replace("gated = true\n", ""))
    assert not old.jamo and not old.gated  # an older file reads as before
    data = tmp_path / "d.jsonl"
    rows = [("걔 사진 작업 해줌 ㅋㅋ", "abuse"), ("오늘 점심 뭐 먹지 다들", "benign")] * 3
    data.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows))
    a = M.train([data], 0.5, 4.0, 0.2, c=2.0)
    b = M.train([data], 0.5, 4.0, 0.2, c=2.0, jamo=True)
    assert a.version.startswith("t5.") and b.version.startswith("t6.") and b.jamo
    lettered = [g for g in b.weights if g.startswith("j:")]
    assert lettered and not any(g.startswith("j:") for g in a.weights)


def test_gated_training_learns_only_from_what_the_scanner_reads(tmp_path: Path) -> None:
    """``gated`` (measured and left off): a message the scanner never hands the model (no
    anchor, fewer than three words) is not a training example."""
    data = tmp_path / "d.jsonl"
    rows = [("걔 사진 작업 해줌 빨리", "abuse"), ("오늘 점심 뭐 먹지 다들", "benign"),
            ("회의 자료 사진 보내 주세요", "benign")] * 3  # fmt: skip
    data.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows))
    shape = M.MessageModel("", 0.0, {}, 0.5, 4.0, 0.2)
    assert M._read_by(shape, rows[0][0]) and not M._read_by(shape, rows[1][0])
    every = M.train([data], 0.5, 4.0, 0.2)
    gated = M.train([data], 0.5, 4.0, 0.2, gated=True)
    assert "점심" in every.weights and "점심" not in gated.weights
    assert gated.gated and gated.version.startswith("t6.") and " 걔" in gated.weights
