"""One message in, everything text intelligence knows about it out (no database here):
lexicon findings, victim-identifying patterns, identifiers, message-level rule hits and
whether it reads as news, support or public-safety text (:mod:`.context`). The runner, the
benchmark and the evaluation all call this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from haechi.analyze.text.context import STRONG_POINTS, ContextRules, Reading
from haechi.analyze.text.entities import (
    BUTTON_MARKERS,
    EXTRACTOR_VERSION,
    Entity,
    extract,
    group_of,
)
from haechi.analyze.text.lexicon import Lexicon, Rule, load_lexicon
from haechi.analyze.text.matcher import Matcher, TextResult
from haechi.analyze.text.model import MessageModel, load_model
from haechi.analyze.text.scoring import keys_of, message_rules
from haechi.analyze.text.variants import supported

# Bump when matching or extraction code changes what it finds. m2: context senses and
# intent cues, lemmas, digits between Hangul syllables, strokes for ㅣ after jamo. m3:
# evasion forms derived from the lexicon (initial consonants, spellings by ear,
# romanisations, Hangul loanwords, mixed scripts), symbols and small capitals for letters.
# m4: rules that cues alone satisfy (no signal term: a photo of a person asked for to be
# made naked, a room moved after a ban), rule senses (benign_in), quoted cues as mentions,
# one-letter misspellings of long Korean terms. m5: a Latin or Cyrillic match that does not
# start and end on a word is retried shorter and further on instead of swallowing the next
# word's start (rules about people's photos, named bots and standby rooms are lexicon data).
# m6: the message model (:mod:`.model`) adds a finding where it reads abuse talk and lets
# public-safety context discount a message it reads as benign; its version is in the
# scan version after the engine's. m7: the model also reads messages with a topic word of
# the domain and no anchor (its finding then needs ``strong``), a message it reads as
# clearly benign (``clear``) is discounted whatever its cues, and a two-syllable Korean
# context cue must start a word (화상 in 문화상품권 is not first aid). m8: talk of a room's
# life, people named by their role and talk of the results anchor the model's finding
# (lexicon cues of weight 0 that no rule reads). m9: a reading at the model's ``sure``
# probability with an anchor is not held back by a benign sense (room talk that names the
# police, the news or a notice: "수사 뉴스 떠서 방 정리함"); news-like text is still discounted.
# m10: the model also reads the lexicon's cue categories and their pairs (the scanner hands
# it its match), and is trained on the retired held-out sets A to I too. m11: a message with
# no anchor that names a room or a link and something happening to it or in it (moved,
# deleted, uploaded, reported: ``ROOM_WORDS`` and ``ROOM_EVENTS``) is read by the model too,
# its finding then at the model's stricter ``second`` probability. m12: a person's "one"
# posted, come out or made (``누나 거 누가 올렸냐``: ``THING_OF`` and ``RESULT_EVENTS``,
# confirmed by kiwipiepy) is read like the room pair; the model is trained on J and K too,
# fitted at C 2 (``c`` in its file; squeezed n-grams, ``squeeze``, measured and left off).
# m13: the same method, the model trained on the retired held-out L too (no method change
# helped out of fold over the 22 training sets). m14: the same method, the model trained on
# the retired held-out M too; the n-grams of the text's letters (``jamo``) and training only
# on what the scanner lets the model read (``gated``, :func:`model_reads`, which serves the
# trainer and the scan alike) were measured out of fold and left off.
ENGINE_VERSION = "m14"
# Identifiers whose message's cues are read even without a signal term (rules test them).
CUE_ENTITIES = frozenset({"tg_bot", "tg_invite", "tg_username", "tg_private_message"})
# Context categories of reporting, support and public safety (weighted cues): with them, a
# message the model reads as benign is read as such (sense-only categories do not count).
PUBLIC_CONTEXT = frozenset({"news", "support", "first_aid", "disaster", "notice", "military_admin"})
MODEL_RULE = "model.message"
# The model's own finding needs something the lexicon saw too (a signal term, a pattern, a
# link, bot or wallet, or a cue other than chat slang): a short line of everyday chat gives
# the model few n-grams and a probability that says more about its bias than the message.
# ``room_talk``, ``role`` and ``result_talk`` (m8) are cues only this gate reads.
MODEL_ANCHOR_INTENTS = frozenset(
    {
        "person", "photo", "photo_noun", "photo_ref", "request", "commerce", "move",
        "ban_evasion", "bot_word", "exposure", "trade", "swap", "work", "transform", "entry",
        "room_talk", "role", "result_talk",
    }
)  # fmt: skip
# Context in which the model's finding does not count without a link, bot, wallet or an
# evasive spelling (as a rule's ``benign_in``): reporting, support, public safety, a unit,
# notices, and the everyday senses of photo editing, film, housing, games, art and alumni.
# Fewer words than this give the model too little to read ("봇 대화", "봇 (@사용자명)": a
# label of a user interface reads like a bot advert's first words).
MODEL_MIN_WORDS = 3
MODEL_ENTITIES = frozenset({"tg_bot", "tg_invite", "tg_private_message"})
MODEL_SENSES = PUBLIC_CONTEXT | {"design", "media", "housing", "gaming", "art", "alumni"}
# The domain's nouns and verbs (rooms, channels, links, invitations, accounts, members,
# faces, photos, schools, bots and their currencies, moving and reporting): a message with
# one of them and no anchor is read by the model too, and its finding then needs the
# model's ``strong`` probability. Without this gate every message would be scored (about
# half the scan's cost again); with it, about a quarter of the benchmark's chat is.
MODEL_TOPIC = re.compile(
    "방|채널|링크|초대|계정|입장|관리자|운영|원본|결과|완성|작업|얼굴|인스타|프사|사진|셀카|"
    "영상|학교|학번|년생|여고|여중|여대|신상|이름|봇|코인|크레딧|충전|여자|여성|여학생|"
    "여직원|누나|언니|주소|공지|이동|옮|신고|삭제|털|가입|회원|"
    r"channel|group|invite|admin|link|chat|girl|wom[ae]n|pic|photo|face|insta|\big\b|"
    r"school|class of|yearbook|\bbot\b|credit|token|upload|member|moved|backup|\bdm\b",
    re.IGNORECASE,
)
# Engine m11's second tier: a room or a link named (``ROOM_WORDS``) together with something
# happening to it or in it (``ROOM_EVENTS``: moved, closed, deleted, uploaded, reported,
# rebuilt, its earlier and later editions, the results made in it). Either alone is ordinary
# chat ("링크 다시 보내주실 수 있나요?", "발표 자료 올려두었습니다"); the pair is how room
# chatter and successor-room posts talk when they use none of the anchor cues ("3번째 방입니다
# 이번엔 터지지 않게 초대로만 받음"). General category words, not phrases of any labelled
# set; study words (자료, upload) are left out: the benchmark's study-group chat pairs them
# with links.
ROOM_WORDS = re.compile(
    r"방(?:$|[\s,.!?~)]|에|은|을|이|으로|도|장|주|들|링|입|이름|주소|임|인|까지|마다)|채널|링크|"
    r"주소|서버|단톡|톡방|텔레|디코|\b(?:room|channel|group|link|server|chat|drop|albums?|list)\b",
    re.IGNORECASE,
)
ROOM_EVENTS = re.compile(
    r"올라|올려|올림|올린|올렸|올리|삭제|백업|옮|이사|새로|새집|터지|터졌|터짐|폭파|날아|닫|"
    r"비우|없어|사라|신고|단속|검색|초대|살려|살아|인원|기존|예전|원래|[0-9]기|유령|짐싸|짐 싸|"
    r"이번 거|이번꺼|이번 건|만든 거|만들|완성|퀄|"
    r"\b(?:moved?|rebuilt|rotate|backup|reported|invite|new|old|edit|made|more)\b",
    re.IGNORECASE,
)
# Engine m12: room chatter's other frame, a person's "one" (``누나 거``, ``농협 직원 거``,
# ``지인 거``: the thing of someone, said of what is posted and made in the room) together
# with its being posted, coming out or looking real. The prefilter is two regular
# expressions; kiwipiepy then confirms that ``거`` follows a noun or pronoun (``올라온 거``,
# ``만든 거``, ``이거`` are not someone's), on the few messages without an anchor that get
# this far. Read by the model at ``second``, as the room pair.
THING_OF = re.compile(r"[가-힣]\s(?:거|꺼)(?:$|[\s?!.,~ㅋㅎ]|[는도야임냐였예요랑만좀가를맞])")
RESULT_EVENTS = re.compile(
    r"올라|올려|올리|올린|올렸|올림|나왔|나옴|나온|나와|만든|만들|완성|퀄|돌려|돌리|작업|"
    r"본인|실화|구분"
)
_THING_HEADS = frozenset({"NNG", "NNP", "NP", "JKG"})
_DEFAULT = object()


@dataclass
class MessageScan:
    result: TextResult
    entities: list[Entity]
    rules: list[Rule] = field(default_factory=list)
    news_like: bool = False
    reading: Reading = field(default_factory=Reading)
    model_p: float | None = None  # the message model's probability of abuse talk

    @property
    def flagged(self) -> bool:
        return bool(self.result.findings or self.result.patterns or self.rules)

    def points(self, lexicon: Lexicon, *, rules: bool = True, discount: bool = True) -> float:
        """The message's own weight: each distinct term and pattern once, plus its rules,
        at ``news_factor`` when it reads as news."""
        terms = {f.term_id: f.points for f in self.result.findings}
        pats = {p.pattern_id: p.points for p in self.result.patterns}
        total = sum(terms.values()) + sum(pats.values())
        if rules:
            total += sum(r.points for r in self.rules)
        if discount and self.news_like:
            total *= lexicon.scoring.news_factor
        return total

    def keys(self) -> set[tuple[str, str]]:
        keys = keys_of(self.result, {e.kind for e in self.entities if e.valid})
        return keys | {("intent", i) for i in self.reading.intents}


class Scanner:
    """A lexicon compiled for scanning; ``version`` names what produced the rows."""

    def __init__(self, lexicon: Lexicon, derived: bool = True, model: Any = _DEFAULT) -> None:
        """``model``: the shipped message model by default, ``None`` for the lexicon alone."""
        self.lexicon = lexicon
        self.matcher = Matcher(lexicon, derived=derived)
        self.context = ContextRules(lexicon)
        self.model: MessageModel | None = load_model() if model is _DEFAULT else model
        tail = f"+{self.model.version}" if self.model is not None else ""
        self.version = f"{lexicon.version}/{EXTRACTOR_VERSION}{ENGINE_VERSION}{tail}"
        # Message rules every condition of which a cue or an identifier can meet: they may
        # fire in a message without any signal term, so such a message's cues are read
        # when its pending cue categories and identifiers could satisfy one of them.
        self.cue_rules = [
            r
            for r in lexicon.rules
            if r.scope == "message"
            and all(any(k in ("intent", "entity") for k, _ in alts) for alts in r.all)
        ]
        self._possible: dict[frozenset[tuple[str, str]], bool] = {}

    def scan(
        self,
        text: str,
        entities: list[dict[str, Any]] | None = None,
        raw_json: dict[str, Any] | None = None,
    ) -> MessageScan:
        result = self.matcher.scan(text)
        ents = extract(text, entities or (), raw_json)
        model = self.model
        # The model reads only messages it could change: long enough, with an anchor
        # (below) or a signal hit to discount; most chat has neither and costs nothing.
        p = None
        feats: set[str] | None = None
        reads, paired = (False, False) if model is None else model_reads(model, text, result, ents)
        if reads and model is not None:
            # Read before the cues are placed: the model's cue features (t4) are the
            # categories of the cues found, placed or not, as in training.
            feats = model.featurize(text, result)
            p = model.probability(feats)
        fire = model is not None and p is not None and p >= model.flag
        cues_only = False
        if result.pending and (fire or any(e.kind in CUE_ENTITIES and e.valid for e in ents)):
            # A bot's own words (its requests count) and a room link's (a backup room
            # announced because the room was banned): rules read their cues.
            self.matcher.resolve(result)
        elif result.pending and not (result.findings or result.patterns):
            cues_only = self._cue_rule_possible(result, ents)
            if cues_only:
                self.matcher.resolve(result)
        if any(f.via == "chosung_short" for f in result.findings):
            self._short_initials(result, ents)
        scan = MessageScan(result, ents)
        scan.reading = self.context.read(result, ents, text)
        scan.news_like = scan.reading.news_like
        if result.findings or result.patterns or result.intent:
            rules = message_rules(self.lexicon, scan.keys())
            scan.rules = self._senses(rules, result, scan.reading)
        scan.model_p = p
        if fire and not self._model_may_fire(scan, p, paired):
            fire = False
        if fire and model is not None and p is not None:
            top = ", ".join(repr(g) for g in model.explain(text, feats=feats))
            why = f"the message model reads it as abuse talk (p = {p:.2f}; most telling: {top})"
            scan.rules.append(Rule(MODEL_RULE, "message", (), model.points, why, "model"))
        elif model is not None and p is not None and p < model.benign:
            self._public_context(scan, clear=p < model.clear)
        if cues_only and not scan.rules:
            # Nothing fired: the cues of a message without signal terms are not stored.
            result.context.clear()
            result.intent.clear()
            scan.reading = Reading()
            scan.news_like = False
        return scan

    @staticmethod
    def _model_candidate(result: TextResult, ents: list[Entity]) -> bool:
        """Could the model's reading change this message (a signal hit, a pattern, a room
        or bot link, a wallet, or a pending anchor cue)?"""
        if result.findings or result.patterns or _model_evidence(ents):
            return True
        return any(t.role == "intent" and t.category in MODEL_ANCHOR_INTENTS
                   for _s, _a, _b, t, _f in result.pending)  # fmt: skip

    def _model_may_fire(self, scan: MessageScan, p: float | None, paired: bool = False) -> bool:
        """Is there an anchor for the model's finding (or is the model sure enough to need
        none, or, for a room named with something happening to it, at ``second``), and no
        benign context (above)?"""
        result, reading = scan.result, scan.reading
        intents = {c.category for c in result.intent}
        evidence = "evasion" in reading.intents or _model_evidence(scan.entities)
        sure = self.model is not None and p is not None and p >= self.model.strong
        second = paired and self.model is not None and p is not None and p >= self.model.second
        anchored = evidence or result.findings or result.patterns or intents & MODEL_ANCHOR_INTENTS
        if not (anchored or sure or second):
            return False
        # A message without an anchor has no reading (nothing to read for the lexicon), but
        # its context cues were placed: they show a benign sense all the same.
        kinds = set(reading.kinds) | {c.category for c in result.context if c.role == "context"}
        # m9: a sure reading with an anchor is not held back by a sense (a message that
        # reads as news is still discounted by ``points``).
        sure_enough = anchored and self.model is not None and p is not None and p >= self.model.sure
        return evidence or sure_enough or not (kinds & MODEL_SENSES)

    def _public_context(self, scan: MessageScan, clear: bool = False) -> None:
        """A message the model reads as benign, with reporting, support or public-safety
        cues and no link, bot, wallet or evasive spelling, reads as such (points at
        ``news_factor``): "환자의 상의를 벗기고", "합성 사진 때문에 힘드시면 1366"."""
        reading = scan.reading
        if "evasion" in reading.intents or _model_evidence(scan.entities):
            return
        if clear or any(reading.kind_weights.get(k, 0.0) > 0 for k in PUBLIC_CONTEXT):
            reading.news_like = True
            scan.news_like = True

    def _cue_rule_possible(self, result: TextResult, ents: list[Entity]) -> bool:
        """Could a rule that cues alone satisfy hold, judging by the categories of the
        pending (not yet checked) cues and the message's identifiers?"""
        have = {
            ("intent", t.category) for _s, _a, _b, t, _f in result.pending if t.role == "intent"
        }
        for e in ents:
            if e.valid:
                have.add(("entity", e.kind))
                have.update(("entity", g) for g in group_of(e.kind))
        if any(k == "entity" for k, _ in have):
            have.add(("intent", "entity"))
        key = frozenset(have)
        possible = self._possible.get(key)
        if possible is None:  # the same few cue sets recur across a whole scan
            possible = any(
                all(any(a in key for a in alts) for alts in r.all) for r in self.cue_rules
            )
            if len(self._possible) < 4096:
                self._possible[key] = possible
        return possible

    def _senses(self, rules: list[Rule], result: TextResult, reading: Reading) -> list[Rule]:
        """Drop the rules whose benign sense the message's context shows (``benign_in``:
        cues of those categories weighing ``news_min_hits``, or a sense-only cue), unless
        an evasive spelling or a strong abuse term is evidence of abuse of its own."""
        if not reading.kind_weights or "evasion" in reading.intents:
            return rules
        if any(f.points >= STRONG_POINTS and f.category != "backup_room" for f in result.findings):
            return rules
        enough = self.lexicon.scoring.news_min_hits
        return [r for r in rules if not (r.benign_in and reading.shows(r.benign_in, enough))]

    def _short_initials(self, result: TextResult, ents: list[Entity]) -> None:
        """Keep three-consonant abbreviations only with explicit context (:mod:`.variants`):
        ㄴㅇㄱ is a chat meme as often as 능욕글."""
        self.matcher.resolve(result)
        groups = {g for e in ents if e.valid for g in group_of(e.kind)}
        if not supported({c.category for c in result.intent}, groups):
            result.findings[:] = [f for f in result.findings if f.via != "chosung_short"]

    def scan_stored(self, text: str, entities_json: str | None, raw: str | None) -> MessageScan:
        """A message as the database holds it; JSON is parsed only where it can add
        something (hidden link targets, user-id mentions, URL buttons)."""
        ents = None
        if entities_json and ('"text_link"' in entities_json or '"mention_name"' in entities_json):
            parsed = orjson.loads(entities_json)
            ents = parsed if isinstance(parsed, list) else None
        raw_json = None
        if raw and any(marker in raw for marker in BUTTON_MARKERS):
            parsed_raw = orjson.loads(raw)
            raw_json = parsed_raw if isinstance(parsed_raw, dict) else None
        return self.scan(text, ents, raw_json)


def model_reads(
    model: MessageModel, text: str, result: TextResult, ents: list[Entity]
) -> tuple[bool, bool]:
    """Does the model read this message (three words or more, and an anchor or a signal
    hit, or the second tier's room pair or someone's "one", or a topic word for the strong
    tier), and is it read by the second tier only? The trainer asks the same of its
    training messages when the model is trained on what it reads (``gated``)."""
    if len(text.split()) < MODEL_MIN_WORDS:
        return False, False
    if Scanner._model_candidate(result, ents):
        return True, False
    paired = model.second < 1.0 and (_room_pair(text) or _thing_of_someone(text))
    topic = model.strong < 1.0 and MODEL_TOPIC.search(text) is not None
    return paired or topic, paired


def _room_pair(text: str) -> bool:
    """A room or link named and something happening to it or in it (engine m11)."""
    return ROOM_WORDS.search(text) is not None and ROOM_EVENTS.search(text) is not None


def _thing_of_someone(text: str) -> bool:
    """Someone's "one" posted, come out or made (engine m12): ``선임 누나 거 누가 올렸냐``.
    kiwipiepy reads only messages both expressions match."""
    if THING_OF.search(text) is None or RESULT_EVENTS.search(text) is None:
        return False
    from haechi.analyze.text.morph import _Kiwi

    tokens = _Kiwi.analyse(text)
    return any(
        form in ("거", "꺼") and i and tokens[i - 1][3] in _THING_HEADS
        for i, (_s, _e, form, _tag) in enumerate(tokens)
    )


def _model_evidence(ents: list[Entity]) -> bool:
    """A bot, a room link or a wallet: evidence of a room's business for the model's finding
    (a plain ``@name`` is not: study groups mention each other all day)."""
    return any(e.valid and (e.kind in MODEL_ENTITIES or "crypto" in group_of(e.kind)) for e in ents)


@lru_cache(maxsize=4)
def _cached(extra_dir: str | None, stamp: tuple[tuple[str, float], ...]) -> Scanner:
    return Scanner(load_lexicon(Path(extra_dir) if extra_dir else None))


def scanner_for(home: Path | None) -> Scanner:
    """The scanner for a data directory (built-in lexicon + ``HOME/lexicon/*.toml``),
    rebuilt when an analyst file changes."""
    extra = home / "lexicon" if home is not None else None
    stamp: tuple[tuple[str, float], ...] = ()
    if extra is not None and extra.is_dir():
        stamp = tuple(sorted((p.name, p.stat().st_mtime) for p in extra.glob("*.toml")))
    return _cached(str(extra) if extra else None, stamp)
