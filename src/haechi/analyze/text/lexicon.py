"""The lexicon as data: terms, victim-identifying patterns and combination rules.

Loaded from the package's ``data/lexicon.toml`` plus every ``*.toml`` an analyst put in
``HOME/lexicon/``; each file is validated when it is loaded, so a typo fails with one
sentence naming the file and the entry. The lexicon's ``digest`` covers the bytes of every
file: adding a term changes the version under which messages are scanned.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from haechi.analyze.text.entities import GROUPS, KINDS
from haechi.domain import UsageError

STRENGTHS = ("high", "medium_high", "medium", "low_medium", "low", "none")
SCOPES = ("message", "room")
CONDITION_KINDS = ("category", "term", "pattern", "pcat", "entity", "intent")
ROLES = ("signal", "context", "intent")
# A lemma is a Korean stem and kiwipiepy's part-of-speech tag (its prefix: "VV" also
# takes the irregular "VV-R", "VV-I"), e.g. "벗기/VV" for 벗기다 in every inflection.
LEMMA = re.compile(r"[가-힣]{1,8}/(?:VV|VA|VX|NNG|NNP|XR)")
MAX_FILE_BYTES = 2 * 1024 * 1024  # a lexicon file is text an analyst wrote, not a data dump


@dataclass(frozen=True)
class Term:
    id: str
    lang: str
    forms: tuple[str, ...]
    strength: str
    category: str
    points: float
    notes: str = ""
    ref: str = ""
    # "signal" (points), "context" (news, support, public-safety, ... vocabulary: lowers a
    # message's weight or shows a word's benign sense) or "intent" (trade, requests, chatter:
    # evidence against a benign reading). Context and intent terms carry no points.
    role: str = "signal"
    morph_check: bool = False
    weight: float = 1.0  # context/intent cues: how much the cue counts (0 = sense only)
    benign_in: tuple[str, ...] = ()  # context categories in which a hit is read as benign
    lemmas: tuple[str, ...] = ()  # "stem/TAG": matched on kiwipiepy's analysis
    not_before: tuple[str, ...] = ()
    not_after: tuple[str, ...] = ()
    source: str = ""  # the file it came from


@dataclass(frozen=True)
class Pattern:
    id: str
    category: str
    points: float
    regex: re.Pattern[str]
    prefilter: tuple[str, ...] = ()
    notes: str = ""
    benign_in: tuple[str, ...] = ()  # as for terms: context categories that make it benign


@dataclass(frozen=True)
class Rule:
    id: str
    scope: str
    all: tuple[tuple[tuple[str, str], ...], ...]  # AND of ORs of (kind, value)
    points: float
    explain: str
    source: str = ""  # the file it came from (named when a reference is unknown)
    # Context categories in which the rule does not fire unless the message also has a
    # link, bot or wallet or an evasive spelling: a rule that needs no signal term (cues
    # alone, "moved here after the ban") is weak evidence, and a guild chat or an
    # evacuation notice says the same words.
    benign_in: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scoring:
    scale: float = 40.0
    news_min_hits: int = 2
    news_factor: float = 0.25
    source_factor: float = 0.4
    news_room_share: float = 0.6
    term_cap: float = 3.0
    intent_veto: float = 2.0  # context weight that one unit of intent cancels
    message_flag: float = 4.0  # a message with at least these points is flagged for review
    levels: dict[str, float] = field(
        default_factory=lambda: {"high": 70.0, "medium": 40.0, "low": 15.0}
    )


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[Term, ...]
    patterns: tuple[Pattern, ...]
    rules: tuple[Rule, ...]
    scoring: Scoring
    news_usernames: frozenset[str]
    title_markers: tuple[str, ...]
    version: str  # e.g. "2026.12.1+ab12cd34": declared version plus digest of all files
    files: tuple[str, ...]

    def term(self, term_id: str) -> Term:
        for t in self.terms:
            if t.id == term_id:
                return t
        raise KeyError(term_id)


def builtin_path() -> Path:
    return Path(str(resources.files("haechi.analyze.text") / "data" / "lexicon.toml"))


def analyst_dir(home: Path) -> Path:
    return home / "lexicon"


def _fail(path: Path, what: str) -> UsageError:
    return UsageError(f"Lexicon file {path.name}: {what}.")


def _str_list(path: Path, where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(path, f"{where} must be a list of non-empty strings")
    return tuple(value)


def _tables(path: Path, doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """``[[key]]`` entries: an analyst's file is untrusted, so a ``key = "x"`` or a table
    where an array of tables belongs is refused in one sentence, not crashed on."""
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _fail(path, f"{key} entries must be [[{key}]] tables")
    return value


def _table(path: Path, doc: dict[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise _fail(path, f"[{key}] must be a table")
    return value


def _number(path: Path, where: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _fail(path, f"{where} must be a number from {low:g} to {high:g}")
    return float(value)


def _parse(path: Path) -> tuple[dict[str, Any], bytes]:
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise _fail(path, f"larger than {MAX_FILE_BYTES // 1024} KB")
    try:
        return tomllib.loads(data.decode("utf-8")), data
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise _fail(path, f"not valid UTF-8 TOML ({exc})") from exc


_KNOWN_TERM_KEYS = {
    "id",
    "lang",
    "forms",
    "strength",
    "category",
    "notes",
    "ref",
    "role",
    "morph_check",
    "not_before",
    "not_after",
    "weight",
    "benign_in",
    "lemmas",
}


def _terms(path: Path, doc: dict[str, Any], points: dict[str, float]) -> list[Term]:
    out = []
    for i, raw in enumerate(_tables(path, doc, "term")):
        where = f"term #{i + 1} ({raw.get('id', '?')})"
        unknown = set(raw) - _KNOWN_TERM_KEYS
        if unknown:
            raise _fail(path, f"{where} has unknown keys {sorted(unknown)}")
        if not isinstance(raw.get("id"), str) or not raw["id"]:
            raise _fail(path, f"{where} needs an id")
        strength = raw.get("strength", "low")
        if not isinstance(strength, str) or strength not in points:
            raise _fail(path, f"{where}: strength must be one of {', '.join(points)}")
        role = raw.get("role", "signal")
        if not isinstance(role, str) or role not in ROLES:
            raise _fail(path, f"{where}: role must be signal, context or intent")
        forms = _str_list(path, f"{where} forms", raw.get("forms"))
        lemmas = _str_list(path, f"{where} lemmas", raw.get("lemmas"))
        if not forms and not lemmas:
            raise _fail(path, f"{where} needs at least one form or lemma")
        bad = [x for x in lemmas if not LEMMA.fullmatch(x)]
        if bad:
            raise _fail(path, f"{where}: lemma {bad[0]!r} is not a Korean stem/TAG like 벗기/VV")
        weight = _number(path, f"{where}: weight", raw.get("weight", 1.0), 0, 10)
        out.append(
            Term(
                id=raw["id"],
                lang=str(raw.get("lang", "xx")),
                forms=forms,
                strength=strength,
                category=str(raw.get("category", "other")),
                points=0.0 if role != "signal" else points[strength],
                notes=str(raw.get("notes", "")),
                ref=str(raw.get("ref", "")),
                role=role,
                morph_check=bool(raw.get("morph_check", False)),
                not_before=_str_list(path, f"{where} not_before", raw.get("not_before")),
                not_after=_str_list(path, f"{where} not_after", raw.get("not_after")),
                weight=weight,
                benign_in=_str_list(path, f"{where} benign_in", raw.get("benign_in")),
                lemmas=lemmas,
                source=path.name,
            )
        )
    return out


def _patterns(path: Path, doc: dict[str, Any]) -> list[Pattern]:
    out = []
    for i, raw in enumerate(_tables(path, doc, "pattern")):
        where = f"pattern #{i + 1} ({raw.get('id', '?')})"
        if not isinstance(raw.get("id"), str) or not isinstance(raw.get("regex"), str):
            raise _fail(path, f"{where} needs an id and a regex")
        try:
            regex = re.compile(raw["regex"])
        except re.error as exc:
            raise _fail(path, f"{where}: the regex does not compile ({exc})") from exc
        out.append(
            Pattern(
                id=raw["id"],
                category=str(raw.get("category", "victim_detail")),
                points=_number(path, f"{where}: points", raw.get("points", 1), -100, 100),
                regex=regex,
                prefilter=_str_list(path, f"{where} prefilter", raw.get("prefilter")),
                notes=str(raw.get("notes", "")),
                benign_in=_str_list(path, f"{where} benign_in", raw.get("benign_in")),
            )
        )
    return out


def _rules(path: Path, doc: dict[str, Any]) -> list[Rule]:
    out = []
    for i, raw in enumerate(_tables(path, doc, "rule")):
        where = f"rule #{i + 1} ({raw.get('id', '?')})"
        scope = raw.get("scope", "message")
        if not isinstance(scope, str) or scope not in SCOPES:
            raise _fail(path, f"{where}: scope must be message or room")
        conds = []
        for cond in _str_list(path, f"{where} all", raw.get("all")):
            alts = []
            for alt in cond.split("|"):
                kind, _, value = alt.strip().partition(":")
                if kind not in CONDITION_KINDS or not value:
                    raise _fail(path, f"{where}: condition {alt!r} is not kind:value")
                alts.append((kind, value))
            conds.append(tuple(alts))
        if not conds or not isinstance(raw.get("id"), str):
            raise _fail(path, f"{where} needs an id and at least one condition")
        unknown = set(raw) - {"id", "scope", "all", "points", "explain", "benign_in"}
        if unknown:
            raise _fail(path, f"{where} has unknown keys {sorted(unknown)}")
        out.append(
            Rule(
                raw["id"],
                scope,
                tuple(conds),
                _number(path, f"{where}: points", raw.get("points", 1), -100, 100),
                str(raw.get("explain", "")),
                path.name,
                _str_list(path, f"{where} benign_in", raw.get("benign_in")),
            )
        )
    return out


def load_lexicon(extra_dir: Path | None = None, extra_files: list[Path] | None = None) -> Lexicon:
    """The built-in lexicon plus every ``*.toml`` in ``extra_dir`` (sorted) and ``extra_files``."""
    paths = [builtin_path()]
    if extra_dir is not None and extra_dir.is_dir():
        paths += sorted(p for p in extra_dir.glob("*.toml") if p.is_file())
    paths += list(extra_files or [])
    digest = hashlib.sha256()
    terms: dict[str, Term] = {}
    patterns: dict[str, Pattern] = {}
    rules: dict[str, Rule] = {}
    declared = "0"
    scoring = Scoring()
    news: set[str] = set()
    markers: list[str] = []
    points = {"high": 10.0, "medium_high": 7.0, "medium": 4.0, "low_medium": 2.0, "low": 1.0}
    points["none"] = 0.0
    for index, path in enumerate(paths):
        doc, data = _parse(path)
        digest.update(hashlib.sha256(data).digest())
        if index == 0:
            declared = str(_table(path, doc, "lexicon").get("version", "0"))
        for key, value in _table(path, doc, "strengths").items():
            if key not in STRENGTHS or not isinstance(value, int | float):
                raise _fail(path, f"strength {key!r} is unknown or not a number")
            points[key] = float(value)
        if "scoring" in doc:
            scoring = _scoring(path, _table(path, doc, "scoring"), scoring)
        src = _table(path, doc, "sources")
        news.update(
            u.lower().lstrip("@")
            for u in _str_list(path, "news_usernames", src.get("news_usernames"))
        )
        markers += [m.lower() for m in _str_list(path, "title_markers", src.get("title_markers"))]
        # A later file may redefine an id: the analyst's file wins over the built-in one.
        terms.update((t.id, t) for t in _terms(path, doc, points))
        patterns.update((p.id, p) for p in _patterns(path, doc))
        rules.update((r.id, r) for r in _rules(path, doc))
    lex = Lexicon(
        terms=tuple(terms.values()),
        patterns=tuple(patterns.values()),
        rules=tuple(rules.values()),
        scoring=scoring,
        news_usernames=frozenset(news),
        title_markers=tuple(dict.fromkeys(markers)),
        version=f"{declared}+{digest.hexdigest()[:8]}",
        files=tuple(str(p) for p in paths),
    )
    _check_references(lex)
    return lex


def _scoring(path: Path, raw: dict[str, Any], base: Scoring) -> Scoring:
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "levels":
            if not isinstance(value, dict):
                raise _fail(path, "scoring.levels must be a table")
            fields[key] = {
                str(k): _number(path, f"scoring.levels.{k}", v, 0, 1e6) for k, v in value.items()
            }
        elif key in (
            "scale",
            "news_factor",
            "source_factor",
            "news_room_share",
            "term_cap",
            "intent_veto",
            "message_flag",
        ):
            fields[key] = _number(path, f"scoring.{key}", value, -1e6, 1e6)
        elif key == "news_min_hits":
            fields[key] = int(_number(path, f"scoring.{key}", value, 0, 1e6))
        else:
            raise _fail(path, f"unknown scoring setting {key!r}")
    merged = {**base.__dict__, **fields}
    return Scoring(**merged)


def _check_references(lex: Lexicon) -> None:
    """Every name a rule tests must be something a message can produce: a condition on an
    unknown term, pattern, category or entity kind would load silently and never fire."""
    known: dict[str, set[str]] = {
        "term": {t.id for t in lex.terms},
        "pattern": {p.id for p in lex.patterns},
        # Only signal terms become findings (context words only discount a message), so
        # only their categories can ever be tested.
        "category": {t.category for t in lex.terms if t.role == "signal"},
        "pcat": {p.category for p in lex.patterns},
        "entity": set(KINDS) | set(GROUPS),
        # Intent categories of intent terms, plus the two the context reading computes.
        "intent": {t.category for t in lex.terms if t.role == "intent"} | {"entity", "evasion"},
    }
    what = {
        "term": "term",
        "pattern": "pattern",
        "category": "term category",
        "pcat": "pattern category",
        "entity": "identifier kind or group",
        "intent": "intent category",
    }
    for rule in lex.rules:
        for alts in rule.all:
            for kind, value in alts:
                if value in known[kind]:
                    continue
                where = f" (in {rule.source})" if rule.source else ""
                near = difflib.get_close_matches(value, sorted(known[kind]), n=3)
                hint = f"; did you mean {', '.join(near)}?" if near else "."
                raise UsageError(
                    f"Lexicon rule {rule.id}{where} names an unknown {what[kind]} "
                    f"{kind}:{value}, which no message can ever produce{hint}"
                )
    contexts = {t.category for t in lex.terms if t.role == "context"}
    items: list[Term | Pattern | Rule] = [*lex.terms, *lex.patterns, *lex.rules]
    for item in items:
        for name in item.benign_in:
            if name not in contexts:
                near = difflib.get_close_matches(name, sorted(contexts), n=3)
                hint = f"; did you mean {', '.join(near)}?" if near else "."
                raise UsageError(
                    f"Lexicon entry {item.id} is benign_in an unknown context category "
                    f"{name!r}, which no context term has{hint}"
                )
