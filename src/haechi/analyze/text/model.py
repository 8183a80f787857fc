"""A small learned message model beside the lexicon: logistic regression on character
n-grams, trained on the labelled tuning data only (``eval/data/lexicon_messages.jsonl``, the
development splits ``lexicon_dev*.jsonl``, one of them ordinary benign chat, and since engine
m10 the retired held-out sets A to I, since m12 J and K, since m13 L, since m14 M), never on
the held-out set N. Since engine m10 it also reads the lexicon's cue categories and their
pairs (:func:`cue_features`); the n-grams of the text without its spaces
(:func:`squeezed_features`, m12), the n-grams of its letters (:func:`jamo_features`, m14)
and training on what the scanner reads only (``gated``, m14) are measured and off.

Why: each held-out set written so far showed lower recall than the ones before it. The
lexicon's cues and rules hold the words their authors saw, and abuse chatter says the same
thing in other words ("걔 페북 사진 전부 긁어옴", "새로 판 방 인원 제한 있음"). Character
n-grams carry what such messages share (a person word, 사진, a request ending, room slang)
without anyone listing it, and Korean needs no tokenizer for them. Trained on the tuning set
and the first development split, the model ranked the new messages of the second one
(written without looking at the lexicon) at an AUC of about 0.88, where the rules found 23 %
of its abuse messages.

How it is used (:mod:`.scan`): a message the model reads as abuse gets a rule-like finding
``model.message`` of ``points`` (stored and explained like any rule, with the n-grams that
weighed most), and a message with context cues of reporting, support or public safety that
the model reads as benign, with no link, bot, wallet or evasive spelling, reads as news
(its points at ``news_factor``); below ``clear`` it does so whatever the cues. Its
thresholds were chosen on out-of-fold predictions of the tuning data (each set scored by a
model trained on the others: ``eval/lexicon_model_oof.py``).

Inference is pure Python (a dict of weights, one lookup per n-gram: a few microseconds a
message); training needs numpy only (``python -m haechi.analyze.text.model``). The weights
file names its version, which is part of the scan version: retraining rescans.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import sys
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

# TOML, not JSON: the package ships ``analyze/text/data/*.toml`` (pyproject's package data).
MODEL_FILE = "message_model.toml"
NGRAMS = (1, 2, 3)
_LINK = re.compile(r"(?:https?://|tg://)\S+|(?:t|telegram)\.me/\S+")
_HANDLE = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def normalise(text: str) -> str:
    """NFKC, lower case, invisible characters out, links and handles as one symbol each (the
    room's name or hash says nothing general), digits as 0, spaces collapsed."""
    t = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).lower()
    t = _HANDLE.sub(" ⓐ ", _LINK.sub(" ⓛ ", t))
    return " " + _SPACE.sub(" ", _DIGITS.sub("0", t)).strip() + " "


def features(text: str) -> set[str]:
    """The character n-grams of the normalised text (those that are not all space)."""
    t = normalise(text)
    out = set()
    for n in NGRAMS:
        for i in range(len(t) - n + 1):
            g = t[i : i + n]
            if not g.isspace():
                out.add(g)
    return out


def squeezed_features(text: str) -> set[str]:
    """Engine m12: the 2- and 3-grams of the normalised text without its spaces, as the
    same features as the n-grams of text written without them: ``새 방`` also reads as
    ``새방``, ``다음 방 링크`` as ``음방``, ``방링``; spacing is the least reliable thing in
    chat (phones, autocorrect, evasion), and a frame (a room and what happens to it) often
    spans a space."""
    t = normalise(text).replace(" ", "")
    return {t[i : i + n] for n in (2, 3) for i in range(len(t) - n + 1)}


JAMO_NGRAMS = (3, 4)


def jamo_features(text: str) -> set[str]:
    """Engine m14 (measured and off): ``j:`` the 3- and 4-grams of the normalised text with
    its Hangul syllables split into their letters (Unicode decomposition), spaces dropped.
    Room chatter in a new voice spells the same endings and stems otherwise (``만들었대``,
    ``맨들었노``, ``맹글었댜``; ``올렸냐``, ``올렸노``): a syllable's n-grams differ, its
    letters' mostly do not."""
    t = unicodedata.normalize("NFD", normalise(text)).replace(" ", "")
    return {"j:" + t[i : i + n] for n in JAMO_NGRAMS for i in range(len(t) - n + 1)}


# Morphemes that carry meaning (nouns, pronouns, verb and adjective stems, roots, adverbs,
# noun suffixes; Latin words): each is a feature ``m:form/TA`` (the tag's first two
# letters), and each Korean one is also read as its CoNg neighbours (below).
MORPH_TAGS = frozenset(
    {"NNG", "NNP", "NP", "VV", "VA", "XR", "MAG", "VV-R", "VV-I", "VA-R", "VA-I", "XSN"}
)
NEIGHBOUR_TAGS = frozenset({"NN", "VV", "VA", "XR", "NP"})


@lru_cache(maxsize=65536)
def neighbours(form: str, tag: str, top_n: int, min_score: float) -> tuple[str, ...]:
    """``form/TA`` of the morpheme itself and of its ``top_n`` nearest morphemes in
    kiwipiepy's CoNg embedding at a cosine of at least ``min_score`` (content tags only),
    cached per morpheme: a word the training data never had reads as the ones it had
    (긁 ~ 긁어내, 언니 ~ 누나 ~ 동생)."""
    from haechi.analyze.text.morph import _Kiwi

    near = _Kiwi.similar(form, tag, top_n)
    out = [f"{form}/{tag[:2]}"]
    out += [f"{f}/{t[:2]}" for f, t, c in near if c >= min_score and t[:2] in NEIGHBOUR_TAGS]
    return tuple(dict.fromkeys(out))


def morpheme_features(text: str, top_n: int, min_score: float) -> set[str]:
    """``m:`` each content morpheme of the normalised text (kiwipiepy), ``e:`` it and its
    CoNg neighbours (Korean only; ``top_n`` 0: none)."""
    from haechi.analyze.text.morph import _Kiwi

    out = set()
    for _s, _e, form, tag in _Kiwi.analyse(normalise(text)):
        if tag.startswith("SL"):
            out.add(f"m:{form.lower()}/SL")
        elif tag in MORPH_TAGS:
            out.add(f"m:{form}/{tag[:2]}")
            if top_n:
                out.update("e:" + n for n in neighbours(form, tag, top_n, min_score))
    return out


def cue_features(result: Any) -> set[str]:
    """The lexicon's reading of the message as features (engine m10): ``c:`` each role and
    category of its cues and signal terms (``c:intent:person``, ``c:context:news``,
    ``c:signal:deepfake``; ``c:pattern`` for a pattern) and ``p:`` each pair of its intent
    categories (``p:person+photo_noun``: a person, her photo and a request is the shape of a
    target search whatever the words). ``result`` is the matcher's
    :class:`~haechi.analyze.text.matcher.TextResult`, before or after its cues are placed;
    the categories abstract over wording, which the n-grams cannot."""
    cats = {f"{t.role}:{t.category}" for _s, _a, _b, t, _f in result.pending}
    cats |= {f"{f.role}:{f.category}" for f in (*result.findings, *result.intent, *result.context)}
    if result.patterns:
        cats.add("pattern")
    intents = sorted({c[7:] for c in cats if c.startswith("intent:")})
    out = {"c:" + c for c in cats}
    out |= {f"p:{a}+{b}" for i, a in enumerate(intents) for b in intents[i + 1 :]}
    return out


@lru_cache(maxsize=1)
def _shipped_matcher() -> Any:
    """The shipped lexicon's matcher: the cues of a text read without a scanner (training)."""
    from haechi.analyze.text.lexicon import load_lexicon
    from haechi.analyze.text.matcher import Matcher

    return Matcher(load_lexicon())


@dataclass(frozen=True)
class MessageModel:
    version: str
    bias: float
    weights: dict[str, float]
    flag: float  # probability at which the model's finding counts ``points``
    points: float
    benign: float  # below it, a message with public-safety context cues reads as news
    trained_on: tuple[str, ...] = ()
    # At this probability the finding needs no anchor (:mod:`.scan`); 1.0 or more: never.
    strong: float = 1.0
    # Below this probability, a message with no link, bot, wallet or evasive spelling reads
    # as benign whatever its cues (:mod:`.scan`); 0: never.
    clear: float = 0.0
    # At this probability an anchored finding is not held back by a benign sense (one
    # news, notice or support word in room talk: "수사 뉴스 떠서 방 정리함"); a message that
    # reads as news is still discounted (:mod:`.scan`). 1.0 or more: never.
    sure: float = 1.0
    # Morpheme features (t3): kiwipiepy's content morphemes, each also read as its
    # ``top_n`` CoNg neighbours at a cosine of ``min_score``; ``morphemes`` False: n-grams only.
    morphemes: bool = False
    top_n: int = 0
    min_score: float = 1.0
    # The lexicon's cue categories and their pairs as features (t4, :func:`cue_features`).
    cues: bool = False
    # Engine m11: a message without an anchor that names a room or a link *and* something
    # happening to it or in it (moved, deleted, uploaded, reported: :mod:`.scan`'s
    # ``ROOM_WORDS`` and ``ROOM_EVENTS``) is read too, and its finding needs this
    # probability (stricter than ``flag``). 1.0 or more: never.
    second: float = 1.0
    # Engine m12: the n-grams of the text without its spaces too (:func:`squeezed_features`).
    squeeze: bool = False
    # The inverse regularisation strength the weights were fitted with (:func:`fit`).
    c: float = 1.0
    # Engine m14, measured and off: the letters' n-grams too (:func:`jamo_features`).
    jamo: bool = False
    # Engine m14, measured and off: trained only on the messages the scanner lets it read
    # (:func:`haechi.analyze.text.scan.model_reads`), the distribution it is used on.
    gated: bool = False

    def featurize(self, text: str, result: Any = None) -> set[str]:
        """The message's features; ``result``: the scanner's match of ``text`` (its cues),
        matched with the shipped lexicon when not given and the model reads cues."""
        feats = features(text)
        if self.squeeze:
            feats |= squeezed_features(text)
        if self.jamo:
            feats |= jamo_features(text)
        if self.morphemes:
            feats |= morpheme_features(text, self.top_n, self.min_score)
        if self.cues:
            feats |= cue_features(result if result is not None else _shipped_matcher().scan(text))
        return feats

    def score(self, text: str, result: Any = None) -> float:
        return self.probability(self.featurize(text, result))

    def probability(self, feats: set[str]) -> float:
        z = self.bias + sum(self.weights.get(g, 0.0) for g in feats)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def explain(self, text: str, k: int = 4, feats: set[str] | None = None) -> list[str]:
        """The ``k`` features that pushed the message most towards abuse (for the analyst):
        n-grams as they are, a morpheme as ``사진/NN``, a neighbour's reading as ``≈사진/NN``,
        a cue category as ``[person]``, a pair of them as ``[person+photo_noun]``."""
        feats = self.featurize(text) if feats is None else feats
        contrib = [(self.weights.get(g, 0.0), g) for g in feats]
        shown = [g.strip() or g for w, g in sorted(contrib, reverse=True)[:k] if w > 0]
        return [_shown(g) for g in shown]

    def to_toml(self) -> str:
        # A JSON string is a valid TOML basic string (the same escapes).
        lines = [
            "# The message model (haechi.analyze.text.model); written by its trainer.",
            "[model]",
            f"version = {json.dumps(self.version)}",
            f"bias = {self.bias!r}",
            f"flag = {self.flag!r}",
            f"points = {self.points!r}",
            f"benign = {self.benign!r}",
            f"strong = {self.strong!r}",
            f"clear = {self.clear!r}",
            f"sure = {self.sure!r}",
            f"trained_on = {json.dumps(list(self.trained_on))}",
            f"ngrams = {list(NGRAMS)}",
            f"morphemes = {json.dumps(self.morphemes)}",
            f"top_n = {self.top_n}",
            f"min_score = {self.min_score!r}",
            f"cues = {json.dumps(self.cues)}",
            f"second = {self.second!r}",
            f"squeeze = {json.dumps(self.squeeze)}",
            f"c = {self.c!r}",
            f"jamo = {json.dumps(self.jamo)}",
            f"gated = {json.dumps(self.gated)}",
            "",
            "[weights]",
        ]
        lines += [
            f"{json.dumps(g, ensure_ascii=False)} = {w!r}" for g, w in sorted(self.weights.items())
        ]
        return "\n".join(lines) + "\n"


def _shown(g: str) -> str:
    if g.startswith("m:"):
        return g[2:]
    if g.startswith("e:"):
        return "≈" + g[2:]
    if g.startswith(("c:", "p:")):
        return f"[{g[2:].split(':')[-1]}]"
    return g


def from_toml(data: str) -> MessageModel:
    doc = tomllib.loads(data)
    head = doc["model"]
    if tuple(head.get("ngrams", ())) != NGRAMS:
        raise ValueError(f"message model n-grams {head.get('ngrams')} are not {list(NGRAMS)}")
    return MessageModel(
        version=str(head["version"]),
        bias=float(head["bias"]),
        weights={str(k): float(v) for k, v in doc["weights"].items()},
        flag=float(head["flag"]),
        points=float(head["points"]),
        benign=float(head["benign"]),
        trained_on=tuple(head.get("trained_on", ())),
        strong=float(head.get("strong", 1.0)),
        clear=float(head.get("clear", 0.0)),
        sure=float(head.get("sure", 1.0)),
        morphemes=bool(head.get("morphemes", False)),
        top_n=int(head.get("top_n", 0)),
        min_score=float(head.get("min_score", 1.0)),
        cues=bool(head.get("cues", False)),
        second=float(head.get("second", 1.0)),
        squeeze=bool(head.get("squeeze", False)),
        c=float(head.get("c", 1.0)),
        jamo=bool(head.get("jamo", False)),
        gated=bool(head.get("gated", False)),
    )


@lru_cache(maxsize=1)
def load_model() -> MessageModel:
    """The shipped model (``data/message_model.toml``)."""
    data = resources.files("haechi.analyze.text").joinpath("data", MODEL_FILE).read_text("utf-8")
    return from_toml(data)


# ---------------------------------------------------------------- training (numpy)


def fit(
    texts: list[str],
    labels: list[bool],
    c: float = 1.0,
    iterations: int = 1500,
    featurize: Any = None,
) -> tuple[float, dict[str, float]]:
    """L2-regularised logistic regression with balanced class weights (the objective of
    scikit-learn's ``LogisticRegression(C=c, class_weight="balanced")``, which it matches
    to three decimals of AUC here) by gradient descent with momentum: the objective is
    convex and the data a few thousand messages, so no solver library is needed. The
    design matrix is kept sparse (row and column indices of its ones; numpy's ``bincount``
    does both products), so a training takes seconds, not minutes. ``featurize``: the
    features of a text (:func:`features` by default)."""
    import numpy as np

    featurize = featurize or features
    vocab: dict[str, int] = {}
    row_ix: list[int] = []
    col_ix: list[int] = []
    for i, t in enumerate(texts):
        idx = sorted(vocab.setdefault(g, len(vocab)) for g in featurize(t))
        row_ix += [i] * len(idx)
        col_ix += idx
    n, bias_col = len(texts), len(vocab)
    rows = np.array(row_ix + list(range(n)), dtype=np.int64)
    cols = np.array(col_ix + [bias_col] * n, dtype=np.int64)  # the bias column (not regularised)
    y = np.array(labels, dtype=float)
    pos = y.sum()
    sw = np.where(y > 0, n / (2 * pos), n / (2 * (n - pos)))
    reg = np.full(bias_col + 1, 1.0 / c)
    reg[-1] = 0.0
    w = np.zeros(bias_col + 1)
    lr = 0.5
    v = np.zeros_like(w)  # Nesterov momentum
    for _ in range(iterations):
        look = w + 0.9 * v
        z = np.bincount(rows, weights=look[cols], minlength=n)
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        r = sw * (p - y)
        grad = np.bincount(cols, weights=r[rows], minlength=bias_col + 1) + reg * look
        v = 0.9 * v - lr * grad / n
        w = w + v
    inv = {i: g for g, i in vocab.items()}
    weights = {inv[i]: round(float(w[i]), 4) for i in range(bias_col) if abs(w[i]) >= 1e-3}
    return round(float(w[-1]), 4), weights


def _load_rows(paths: list[Path]) -> list[dict[str, Any]]:
    rows = []
    for p in paths:
        rows += [json.loads(line) for line in p.read_text("utf-8").splitlines() if line.strip()]
    return rows


def train(
    paths: list[Path],
    flag: float,
    points: float,
    benign: float,
    strong: float = 1.0,
    clear: float = 0.0,
    sure: float = 1.0,
    morphemes: bool = False,
    top_n: int = 0,
    min_score: float = 1.0,
    cues: bool = False,
    second: float = 1.0,
    squeeze: bool = False,
    c: float = 1.0,
    jamo: bool = False,
    gated: bool = False,
) -> MessageModel:
    rows = _load_rows(paths)
    shape = MessageModel("", 0.0, {}, flag, points, benign, (), strong, clear, sure,
                         morphemes, top_n, min_score, cues, second, squeeze, c, jamo,
                         gated)  # fmt: skip
    if gated:
        rows = [r for r in rows if _read_by(shape, r["text"])]
    texts = [r["text"] for r in rows]
    labels = [r["label"] == "abuse" for r in rows]
    bias, weights = fit(texts, labels, c=c, featurize=shape.featurize)
    digest = hashlib.sha256()
    for p in paths:
        digest.update(p.read_bytes())
    # The thresholds name it too (t2: with ``strong`` and ``clear``; t3: with the
    # morpheme features).
    digest.update(f"{NGRAMS}/{flag}/{points}/{benign}/{strong}/{clear}".encode())
    tag = "t2"
    if sure < 1.0 or morphemes:  # t3: with ``sure`` and the morpheme features
        digest.update(f"/{sure}/{morphemes}/{top_n}/{min_score}".encode())
        tag = "t3"
    if cues:  # t4: with the lexicon's cue categories (their lexicon is the shipped one)
        digest.update(f"/cues/{_shipped_matcher().lexicon.version}".encode())
        tag = "t4"
    if second < 1.0:  # engine m11's second tier (same weights, another reading)
        digest.update(f"/second/{second}".encode())
    if squeeze or c != 1.0:  # t5 (engine m12): squeezed n-grams, another C
        digest.update(f"/squeeze/{squeeze}/c/{c}".encode())
        tag = "t5"
    if gated:  # t6: trained on what it reads
        digest.update(f"/gated/{_shipped_matcher().lexicon.version}".encode())
        tag = "t6"
    if jamo:  # t6: the letters' n-grams
        digest.update(f"/jamo/{JAMO_NGRAMS}".encode())
        tag = "t6"
    return dataclasses.replace(
        shape,
        version=f"{tag}.{digest.hexdigest()[:6]}",
        bias=bias,
        weights=weights,
        trained_on=tuple(p.name for p in paths),
    )


def _read_by(shape: MessageModel, text: str) -> bool:
    """Would the scanner hand ``text`` to a model of this shape (the shipped lexicon)?"""
    from haechi.analyze.text.entities import extract
    from haechi.analyze.text.scan import model_reads

    return model_reads(shape, text, _shipped_matcher().scan(text), extract(text, ()))[0]


THRESHOLDS = (
    "flag", "points", "benign", "strong", "clear", "sure", "second", "top_n", "min_score", "c",
)  # fmt: skip


def main(argv: list[str]) -> None:
    """``python -m haechi.analyze.text.model OUT TRAINING.jsonl... [--flag=P ...]``: retrain
    the weights. The thresholds are the shipped file's unless given (``--flag``,
    ``--points``, ``--benign``, ``--strong``, ``--clear``, ``--sure``, ``--second``); they
    are chosen out of fold
    (``eval/lexicon_model_oof.py``; see the module docstring)."""
    shipped = load_model()
    given: dict[str, Any] = {k: getattr(shipped, k) for k in THRESHOLDS}
    given["morphemes"] = shipped.morphemes
    given["cues"] = shipped.cues
    given["squeeze"] = shipped.squeeze
    given["jamo"] = shipped.jamo
    given["gated"] = shipped.gated
    paths = []
    for arg in argv:
        name, eq, value = arg.removeprefix("--").partition("=")
        if arg.startswith("--") and eq and name in given:
            given[name] = int(value) if name == "top_n" else float(value)
            given["morphemes"] = given["morphemes"] or name == "top_n"
        elif arg == "--ngrams-only":
            given.update(morphemes=False, top_n=0, min_score=1.0)
        elif arg in ("--cues", "--no-cues"):
            given["cues"] = arg == "--cues"
        elif arg in ("--squeeze", "--no-squeeze"):
            given["squeeze"] = arg == "--squeeze"
        elif arg in ("--jamo", "--no-jamo"):
            given["jamo"] = arg == "--jamo"
        elif arg in ("--gated", "--no-gated"):
            given["gated"] = arg == "--gated"
        elif arg.startswith("--"):
            raise SystemExit(f"unknown option {arg} (thresholds: {', '.join(THRESHOLDS)})")
        else:
            paths.append(arg)
    out, *inputs = paths
    model = train([Path(p) for p in inputs], **given)
    Path(out).write_text(model.to_toml(), encoding="utf-8")
    print(f"{out}: {model.version}, {len(model.weights)} weights")


if __name__ == "__main__":
    main(sys.argv[1:])
