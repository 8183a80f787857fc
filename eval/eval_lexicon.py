"""Precision and recall of the lexicon, patterns, rules and context on labelled messages.

Two sets, written for this project and kept in the repository: room chatter, bot ads,
target-search posts, backup-room posts and evasive spellings (label ``abuse``) against
news, school and official notices, victim-support posts, first-aid and evacuation text,
everyday military messages and everyday text with look-alike words (label ``benign``),
mostly Korean and English, text only.

* ``eval/data/lexicon_messages.jsonl``, the *tuning* set: the lexicon and its context rules
  were designed while looking at it;
* ``eval/data/lexicon_heldout.jsonl``, *held-out A*: written and committed before the
  context rules, never tuned on;
* ``eval/data/lexicon_heldout_b.jsonl``, *held-out B*: written and committed after held-out
  A's first look and before the second round of changes, never tuned on;
* ``eval/data/lexicon_heldout_c.jsonl``, *held-out C*, and ``eval/data/lexicon_dev.jsonl``,
  the *development split*: one set of new messages on the evasions the matcher did not
  undo (initial consonants, romanised Korean, mixed scripts, misspellings, backup rooms)
  and their look-alikes (chat abbreviations, romanised everyday Korean, news, public
  safety, school notices), split by group (a third to dev, seed 20261206) and committed
  before the evasion forms were derived. The development split was tuned on like the
  tuning set; C was looked at once, at the end;
* ``eval/data/lexicon_heldout_d.jsonl``, *held-out D*: new messages on what A, B and C
  showed weakest (room chatter without any lexicon word, backup-room posts with and
  without a room link, bot ads, target search, misspellings) and as many benign
  look-alikes of every benign group (news, victim support, first aid, evacuation,
  military, school and official notices, everyday photo edits and moved group chats),
  written and committed before the intent and backup-room rules of engine m4, never
  tuned on;
* ``eval/data/lexicon_heldout_e.jsonl``, *held-out E*: new messages of the groups D showed
  weakest (room chatter, backup and successor rooms, bot ads) and of every group of D,
  benign look-alikes included, written in a new style and committed before engine m5's
  changes, never tuned on;
* ``eval/data/lexicon_heldout_f.jsonl``, *held-out F*: new messages of every group of E,
  written and committed before the message model of engine m6, never tuned on;
* ``eval/data/lexicon_heldout_g.jsonl``, *held-out G*: new messages of the same groups in
  another style (shorter, slangier, typos and emoji), written and committed before any
  change after engine m6 and registered here without being run, never tuned on;
* ``eval/data/lexicon_heldout_h.jsonl``, *held-out H*: new messages of the same groups in
  voices none of the earlier sets has (dialect, transcribed speech, quoted replies, gamer
  and British English, terse newcomer questions), written and committed before any change
  after engine m7 and registered here without being run, never tuned on;
* ``eval/data/lexicon_heldout_i.jsonl``, *held-out I*: new messages of the same groups in
  voices and wordings none of the earlier sets has (investors', office, teen and
  churchgoers' room talk, target search by workplace, backup-room moves in new metaphors,
  bot ads), written and committed before any change after engine m8 and registered here
  without being run, never tuned on;
* ``eval/data/lexicon_dev_g.jsonl`` to ``lexicon_dev_n.jsonl``: more development splits,
  tuned on and trained on by the message model (``_j`` is ordinary group chat and ``_l``
  benign look-alikes, all benign; ``_k``, ``_l`` and ``_m`` were written for engine m8,
  after H was committed: room chatter and successor-room posts in many voices, short and
  slangy lines, formal operators' notices, and look-alikes in the same voices; ``_n`` for
  engine m9, after I was committed: gamers, campus boards, clubs and streamers' fans, kept
  to other voices and topics than I's). ``lexicon_dev_o.jsonl`` (86: room chatter without
  an anchor word and ordinary rooms that move, written for engine m14 after N was
  committed) is not trained on: out of fold it taught the model nothing the other sets
  could use, and the benign corpus read worse with it (docs/text.md, engine m14).

* ``eval/data/lexicon_heldout_j.jsonl``, *held-out J*: new messages of the same groups in
  voices none of the sets above has (parents' group chats, delivery riders and part-timers,
  sports clubs, older men, alumni, Gyeongsang and Jeolla spellings, diaspora
  code-switching, voice-input run-ons, very short lines), written and committed on its own
  before any change after engine m9 and registered here without being run, never tuned on;
  looked at once (look 15, engine m10) and reported since as *looked at*, not held-out;
* ``eval/data/lexicon_heldout_k.jsonl``, *held-out K*: new messages of the same groups in
  voices none of the sets above has (shift workers, conscripts' families, job-seekers'
  study rooms, fandom translation groups, rural youth, designated drivers, church youth
  groups abroad, Korean written by non-native speakers, heavy slang, emoji-heavy lines),
  written and committed on its own (bd82bd9) before any change after engine m10 and
  registered here without being run, never tuned on: the held-out set of engine m11,
  looked at once (look 16);
* ``eval/data/lexicon_heldout_l.jsonl``, *held-out L*: new messages of the same groups in
  voices none of the sets above has (university-entrance crammers, overseas students,
  online sellers, phone autocorrect slips, English-Korean teen mixes, hobby clubs, gym
  trainers, call-centre teams), with benign look-alikes of ordinary rooms that move, are
  deleted or announce a new link or a backup room (class rooms, game guilds, fandom and
  sellers' rooms, study groups, an official channel), written and committed on its own
  (7e452e1) before any change after engine m11 and registered here without being run,
  never tuned on: the held-out set of engine m12, looked at once (look 17);
* ``eval/data/lexicon_heldout_m.jsonl``, *held-out M*: new messages of the same groups in
  voices none of the sets above has (nurses' and care workers' shift chats, taxi, rider
  and designated-driver unions, farmers' co-ops, K-pop trainee dorms, esports teams,
  patients' families, church choirs, used-car dealers, small-town parents, Korean-Chinese
  and Korean-Russian speakers, elderly voice typing, club alumni, expats and overseas
  moderators), room chatter mostly without a photo or profile anchor, and look-alikes of
  ordinary rooms that move, are deleted or post a new link, written and committed on its
  own (3d19175) before any change after engine m12 and registered here without being run,
  never tuned on: the held-out set of engine m13, looked at once (look 18), trained on since
  engine m14;
* ``eval/data/lexicon_heldout_n.jsonl``, *held-out N*: new messages of the same groups in
  voices none of the sets above has (construction sites, fishing crews and ports,
  university labs, bank branches, pharmacies, flight and hotel crews, convenience-store
  owners, warehouse pickers, PC rooms, musical ensembles, golf caddies, wedding halls,
  lifeguards, ski seasonal staff, Jeju and Chungcheong spellings, Australian and Indian
  English), room chatter about half without an anchor word, and look-alikes of ordinary
  rooms that move, are reported or post a new link or a backup room, written and committed
  on its own (cc493ab) before any change after engine m13 and registered here without
  being run (4adb5f0), never tuned on: since engine m14 the held-out set.

Engine m10 retires A to I into training: each had been looked at up to fourteen times and
the rounds were steered by their totals, so their figures were no longer held-out figures;
their texts now train the message model with the tuning set and the development splits
(SEEN below), they are reported as trained on, and J is the one held-out set. Engine m11
registers K as the held-out set; J, looked at once, is reported beside it, not trained on.
Engine m12 retires J and K into training (looked at twice and once) and registers L as the
one held-out set. Engine m13 retires L into training (looked at once) and registers M.
Engine m14 retires M into training (looked at once) and registers N.

Of the held-out sets only totals and per-group counts are reported (never which of their
messages were missed), and each look is logged in docs/text.md.

Besides the labelled sets, a **benign corpus** measures false matches of the derived
evasion forms at a larger scale: ``eval/data/lexicon_benign_chat.txt`` (chat
abbreviations, romanised everyday Korean, look-alike loanwords, written for this),
kiwipiepy's documentation (its Korean example sentences), the web interface's Korean
strings, the English of Python's documentation (``pydoc_data``) and the 110,000 proper
nouns of kiwipiepy's dictionary. The last two also serve as guards when the forms are
derived (English words for romanisation keys, proper nouns for spellings by ear and
loanwords), so on them the count is a check that the guard works, not an independent
measurement.

Both were written by the engineer who wrote the lexicon, so they measure the matcher's
behaviour on the kinds of cases we know, not real-world accuracy: domain.md §7 notes there
is no official labelled list to validate on.

Per group: an abuse group's recall (its messages flagged), a benign group's false alarms,
and the precision the flag would have on all abuse messages plus that benign group alone
(how much that kind of look-alike costs).

A message is flagged when its points (each distinct term and pattern once, plus its
message-level rules, times ``news_factor`` when it reads as news) reach the lexicon's
``message_flag``. Besides the full configuration, the same set is scored with terms only
(no rules, no news discount) to show what those two add, and over a threshold sweep.

Rooms: ``eval/data/lexicon_rooms.json`` groups messages of the set into 13 labelled rooms
(6 abuse, 7 benign: news, school, victim support, everyday and look-alike chatter). They are
written as a Telegram export, ingested into a throwaway SQLite home and scored by the real
runner (room aggregation in SQL, titles, room rules, the news discount), so the room score is
measured as ``haechi text rooms`` shows it. The rooms were composed by the same author as the
messages: a check of the scoring's behaviour, not of field accuracy.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Section  # noqa: E402

# The sets tuned on, which the message model is trained on (its training files, in this
# order; eval/lexicon_model_oof.py reads the same list), with the names the report gives.
SEEN = (
    ("tuning set", "lexicon_messages"),
    ("development split", "lexicon_dev"),
    ("second development split", "lexicon_dev_g"),
    ("third development split", "lexicon_dev_h"),
    ("fourth development split", "lexicon_dev_i"),
    ("fifth development split (benign chat)", "lexicon_dev_j"),  # ordinary group chat
    ("sixth development split", "lexicon_dev_k"),  # m8: room chatter, successor rooms
    ("seventh development split (benign look-alikes)", "lexicon_dev_l"),  # m8, all benign
    ("eighth development split", "lexicon_dev_m"),  # m8: short, slang, formal, British
    ("ninth development split", "lexicon_dev_n"),  # m9: gamers, campus boards, clubs
    # m10: the held-out sets A to I retire into training (each looked at up to 14 times;
    # see docs/text.md): from here on their figures are not held-out figures.
    ("retired held-out A", "lexicon_heldout"),
    ("retired held-out B", "lexicon_heldout_b"),
    ("retired held-out C", "lexicon_heldout_c"),
    ("retired held-out D", "lexicon_heldout_d"),
    ("retired held-out E", "lexicon_heldout_e"),
    ("retired held-out F", "lexicon_heldout_f"),
    ("retired held-out G", "lexicon_heldout_g"),
    ("retired held-out H", "lexicon_heldout_h"),
    ("retired held-out I", "lexicon_heldout_i"),
    # m12: J (looked at in looks 15 and 16) and K (look 16) retire into training too.
    ("retired held-out J", "lexicon_heldout_j"),
    ("retired held-out K", "lexicon_heldout_k"),
    # m13: L (look 17) retires into training too.
    ("retired held-out L", "lexicon_heldout_l"),
    # m14: M (look 18) retires into training too.
    ("retired held-out M", "lexicon_heldout_m"),
)
SEEN_FILES = tuple(HERE / "data" / f"{stem}.jsonl" for _name, stem in SEEN)
DATA = SEEN_FILES[0]
# m14: the one held-out set (A to M are trained on: SEEN above). Written and committed on
# its own (cc493ab) before any change after engine m13, registered here without a run
# (4adb5f0); N alone decides "Targets met".
HELDOUT_N = HERE / "data" / "lexicon_heldout_n.jsonl"
HELDOUT_SETS = (HELDOUT_N,)
HELD_NAMES = "N"
TARGET_SET = "held-out N"
RETIRED = "retired held-out A to M (trained on)"
BENIGN_CHAT = HERE / "data" / "lexicon_benign_chat.txt"
ROOMS = HERE / "data" / "lexicon_rooms.json"
TARGET_PRECISION = 0.90  # issue 16, on the held-out set (J to M in m10 to m13; N since m14)
TARGET_RECALL = 0.90  # (TARGET_SET only)
# Rooms (stated before their first run): every abuse room scores above every benign room;
# the score ranks rooms for review, so the order is what has to hold.


def load(path: Path = DATA) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert all(r["label"] in ("abuse", "benign") for r in rows)
    return rows


def group_lines(rows: list[dict[str, Any]], pred: list[bool]) -> list[str]:
    """One line per group: abuse groups' recall, benign groups' false alarms and the
    precision on all abuse messages plus that group."""
    tp = sum(p for r, p in zip(rows, pred, strict=True) if r["label"] == "abuse")
    by: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r, p in zip(rows, pred, strict=True):
        by[f"{r['label']}/{r['group']}"][0] += int(p)
        by[f"{r['label']}/{r['group']}"][1] += 1
    out = []
    for g, (flagged, n) in sorted(by.items()):
        if g.startswith("abuse/"):
            out.append(f"{g}: recall {flagged / n:.2f} ({flagged}/{n})")
        else:
            prec = tp / (tp + flagged) if tp + flagged else 1.0
            out.append(f"{g}: {flagged}/{n} flagged, precision with all abuse {prec:.2f}")
    return out


def prf(pred: list[bool], gold: list[bool]) -> tuple[float, float, float, int, int, int]:
    tp = sum(p and g for p, g in zip(pred, gold, strict=True))
    fp = sum(p and not g for p, g in zip(pred, gold, strict=True))
    fn = sum(g and not p for p, g in zip(pred, gold, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp, fp, fn


def run(data: Path) -> Section:  # ``data`` (../shared/data) is not needed: the set is ours
    from haechi.analyze.text.lexicon import load_lexicon
    from haechi.analyze.text.scan import Scanner

    parts = [(name, load(path)) for (name, _), path in zip(SEEN, SEEN_FILES, strict=True)]
    tuning = parts[0][1]
    n_dev = sum(not name.startswith("retired") for name, _ in parts) - 1
    dev_counts = [str(len(part)) for _name, part in parts[1 : 1 + n_dev]]
    retired = [part for name, part in parts if name.startswith("retired")]
    held = {k: load(p) for k, p in zip(HELD_NAMES, HELDOUT_SETS, strict=True)}
    heldout = [r for part in held.values() for r in part]
    seen_sets = [r for _name, part in parts for r in part]
    rows = seen_sets + heldout
    lex = load_lexicon()
    scanner = Scanner(lex)
    plain = Scanner(lex, derived=False)
    lexicon_only = Scanner(lex, model=None)
    threshold = lex.scoring.message_flag
    scans = [scanner.scan(r["text"]) for r in rows]
    gold = [r["label"] == "abuse" for r in rows]
    configs = {
        "full: terms + patterns + rules + message model + context": [s.points(lex) for s in scans],
        "lexicon alone (no message model: engine m5's reading)": [
            lexicon_only.scan(r["text"]).points(lex) for r in rows
        ],
        "terms and patterns only (no rules, no model, no discount)": [
            s.points(lex, rules=False, discount=False) for s in scans
        ],
        "full without the derived evasion forms": [plain.scan(r["text"]).points(lex) for r in rows],
    }
    model = scanner.model
    sec = Section(
        title="Lexicon and rules (text intelligence)",
        intro=(
            f"{len(rows)} labelled messages ({sum(gold)} abuse, {len(gold) - sum(gold)} benign;"
            f" {dict(Counter(r['lang'] for r in rows))}): {len(tuning)} in the tuning set "
            f"`eval/data/lexicon_messages.jsonl`, {', '.join(dev_counts[:-1])} and "
            f"{dev_counts[-1]} in the development splits `lexicon_dev.jsonl`, "
            "`lexicon_dev_g.jsonl` to "
            "`lexicon_dev_n.jsonl` (`_j` ordinary group chat and `_l` look-alikes, all "
            "benign; tuned on too), "
            + ", ".join(f"{len(v)}" for v in retired)
            + " in the retired held-out sets A to M (`eval/data/lexicon_heldout.jsonl` to "
            "`lexicon_heldout_m.jsonl`, trained on since engine m10 (A to I), m12 (J "
            "and K), m13 (L) and m14 (M), so not held-out any more) and "
            f"{len(held['N'])} in the held-out set N "
            f"(`eval/data/lexicon_heldout_n.jsonl`, never tuned on), lexicon {lex.version}, "
            "message model "
            f"{model.version if model else 'none'} (trained on the tuning set, the "
            f"{len(dev_counts)} development splits and the retired sets A to M), scan "
            f"version {scanner.version}. A "
            f"message is flagged at >= {threshold} points. All sets were written by the "
            "lexicon's authors: they show behaviour on known kinds of cases, not field accuracy."
        ),
        header=["configuration", "precision", "recall", "F1", "TP", "FP", "FN"],
    )
    results = {}
    for name, points in configs.items():
        pred = [p >= threshold for p in points]
        p, r, f, tp, fp, fn = prf(pred, gold)
        results[name] = (p, r, pred)
        sec.rows.append([name, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", str(tp), str(fp), str(fn)])
    full_points = next(iter(configs.values()))
    for t in (1, 2, 4, 6, 8, 10):
        p, r, f, tp, fp, fn = prf([x >= t for x in full_points], gold)
        sec.rows.append([f"full, threshold {t}", f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", str(tp),
                         str(fp), str(fn)])  # fmt: skip
    pred = next(iter(results.values()))[2]
    before = results["lexicon alone (no message model: engine m5's reading)"][2]
    plain_pred = results["full without the derived evasion forms"][2]
    bounds: dict[str, tuple[int, int]] = {}
    at = 0
    for name, part in parts + [(f"held-out {k}", v) for k, v in held.items()]:
        bounds[name] = (at, at + len(part))
        at += len(part)
    n_seen = len(seen_sets)

    def span(*names: str) -> tuple[list[dict[str, Any]], list[bool], list[bool]]:
        idx = [i for n in names for i in range(*bounds[n])]
        return [rows[i] for i in idx], [pred[i] for i in idx], [before[i] for i in idx]

    by_set = {name: span(name) for name in bounds}
    by_set[RETIRED] = span(*(name for name, _ in parts if name.startswith("retired")))
    for name, (part, part_pred, part_before) in by_set.items():
        g = [x["label"] == "abuse" for x in part]
        p, r, f, tp, fp, fn = prf(part_pred, g)
        bp, br, *_ = prf(part_before, g)
        label = f"full, {name} only ({len(part)}); lexicon alone {bp:.3f} / {br:.3f}"
        sec.rows.append([label, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", str(tp), str(fp), str(fn)])
    k_at, k_end = bounds[TARGET_SET]
    plain_c = [x["label"] == "abuse" for x in rows[k_at:k_end]]
    pc, rc, _f, *_ = prf(plain_pred[k_at:k_end], plain_c)
    sec.notes.append(
        f"{TARGET_SET} without the derived evasion forms: precision {pc:.3f}, "
        f"recall {rc:.3f} (what derivation adds on unseen messages)"
    )
    sec.notes.append("per group, all sets: " + "; ".join(group_lines(rows, pred)))
    for name in (RETIRED, TARGET_SET):
        part, part_pred, part_before = by_set[name]
        sec.notes.append(f"per group, {name}: " + "; ".join(group_lines(part, part_pred)))
        sec.notes.append(
            f"per group, {name}, lexicon alone: " + "; ".join(group_lines(part, part_before))
        )
    by_lang: dict[str, list[bool]] = defaultdict(list)
    gold_lang: dict[str, list[bool]] = defaultdict(list)
    for row, flagged, g in zip(rows, pred, gold, strict=True):
        by_lang[row["lang"]].append(flagged)
        gold_lang[row["lang"]].append(g)
    sec.notes.append(
        "per language (precision/recall): "
        + ", ".join(
            f"{lang} {prf(by_lang[lang], gold_lang[lang])[0]:.2f}/"
            f"{prf(by_lang[lang], gold_lang[lang])[1]:.2f}"
            for lang in sorted(by_lang)
        )
    )
    # Which messages failed is listed for the sets tuned on only: naming the held-out
    # sets' failures would invite tuning on them.
    seen = list(zip(seen_sets, pred[:n_seen], gold[:n_seen], strict=True))
    misses = [r["id"] for r, p, g in seen if g and not p]
    false_pos = [r["id"] for r, p, g in seen if p and not g]
    sec.notes.append(f"missed abuse, tuning set and dev (ids): {', '.join(misses) or 'none'}")
    sec.notes.append(f"false positives, tuning set and dev (ids): {', '.join(false_pos) or 'none'}")
    sec.notes += benign_corpus(scanner, plain, lexicon_only)
    sec.notes.append(
        f"targets (issue 16): precision >= {TARGET_PRECISION}, recall >= {TARGET_RECALL} for "
        "the full configuration on the held-out set N, the one set never tuned on nor looked "
        "at (A to I are trained on since engine m10, J and K since m12, L since m13, M since "
        "m14; how often each held-out set has been looked at: docs/text.md)"
    )
    rooms_ok = _rooms(sec, {r["id"]: r for r in tuning})
    # Met only on what was never tuned on nor looked at: the held-out set N (the sets tuned
    # on, which the message model was trained on, would make any model look good).
    k_rows = by_set[TARGET_SET][0]
    held_p, held_r, *_ = prf(by_set[TARGET_SET][1], [x["label"] == "abuse" for x in k_rows])
    sec.passed = held_p >= TARGET_PRECISION and held_r >= TARGET_RECALL and rooms_ok
    return sec


def benign_texts() -> dict[str, list[str]]:
    """The benign corpus (module docstring), by source; sources that are not installed are
    left out."""
    import re

    from haechi.analyze.text.variants import dictionary_words

    out: dict[str, list[str]] = {}
    chat = BENIGN_CHAT.read_text(encoding="utf-8").splitlines()
    out["benign chat (written)"] = [x for x in chat if x and not x.startswith("#")]
    root = HERE.parent / "src" / "haechi" / "web" / "locales" / "ko.json"
    ui = json.loads(root.read_text(encoding="utf-8"))
    out["web interface, Korean strings"] = [v for v in ui.values() if isinstance(v, str)]
    try:
        import kiwipiepy

        doc = Path(kiwipiepy.__file__).parent / "documentation.md"
        lines = doc.read_text(encoding="utf-8").splitlines()
        out["kiwipiepy documentation, Korean lines"] = [x for x in lines if re.search("[가-힣]", x)]
    except (ImportError, OSError):
        pass
    try:
        from pydoc_data.topics import topics

        english = [x.strip() for t in topics.values() for x in t.splitlines() if len(x) > 20]
        out["Python documentation, English lines (guard)"] = english
    except ImportError:
        pass
    words = list(dictionary_words())
    if words:
        out["kiwipiepy proper nouns (guard)"] = words
    return out


def benign_corpus(scanner: Any, plain: Any, lexicon_only: Any) -> list[str]:
    """One note per benign source: messages with a derived-form hit, and messages flagged
    with and without the derived forms and without the message model."""
    lex = scanner.lexicon
    flag = lex.scoring.message_flag
    notes = []
    for name, texts in benign_texts().items():
        derived = flagged = flagged_plain = flagged_lex = 0
        for text in texts:
            scan = scanner.scan(text)
            derived += any(f.via for f in scan.result.findings)
            flagged += scan.points(lex) >= flag
            flagged_plain += plain.scan(text).points(lex) >= flag
            flagged_lex += lexicon_only.scan(text).points(lex) >= flag
        notes.append(
            f"benign corpus, {name}: {len(texts)} messages, {derived} with a derived-form "
            f"hit, {flagged} flagged ({flagged_plain} without the derived forms, "
            f"{flagged_lex} without the message model)"
        )
    return notes


def room_scores(by_id: dict[str, dict[str, Any]]) -> list[tuple[dict[str, Any], float, str]]:
    """(room, score, level) for each labelled room, through ingest and the text runner."""
    import tempfile

    from haechi.analyze.text.runner import run_text_analysis
    from haechi.analyze.text.service import room_ranking
    from haechi.app import init_home
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.demo.tdesktop_format import ABOUT_CHATS, ABOUT_TELEGRAM, ChatBuilder, Peer, dumps

    spec = json.loads(ROOMS.read_text(encoding="utf-8"))["rooms"]
    start = 1725100000  # 2024-08-31 UTC
    chats = []
    for n, room in enumerate(spec, start=1):
        chat = ChatBuilder(room["title"], room["type"], 1900000000 + n, f"chats/chat_{n}/", {})
        for i, mid in enumerate(room["messages"]):
            who = Peer(f"member {i % 3 + 1}", f"user{7900000000 + n * 10 + i % 3}")
            chat.message(start + 60 * i, who, by_id[mid]["text"])
        chats.append(chat)
    with tempfile.TemporaryDirectory(prefix="haechi-eval-rooms-") as tmp:
        export = Path(tmp) / "export"
        export.mkdir()
        root = {
            "about": ABOUT_TELEGRAM,
            "personal_information": {"user_id": 7900000000, "first_name": "Eval"},
            "chats": {"about": ABOUT_CHATS, "list": [c.to_dict() for c in chats]},
        }
        (export / "result.json").write_text(dumps(root), encoding="utf-8")
        app = init_home(Path(tmp) / "home")
        try:
            run_ingest(app, export, quiet=True)
            run_text_analysis(app)
            scored = {r.title: (r.score, r.level) for r in room_ranking(app, limit=1000)}
        finally:
            app.close()
    return [(room, *scored.get(room["title"], (0.0, "minimal"))) for room in spec]


def _rooms(sec: Section, by_id: dict[str, dict[str, Any]]) -> bool:
    scored = room_scores(by_id)
    for room, score, level in sorted(scored, key=lambda x: -x[1]):
        sec.notes.append(
            f"room {room['id']} ({room['label']}, {len(room['messages'])} messages, "
            f"{room['title']}): score {score:.1f}, {level}"
        )
    abuse = [score for room, score, _ in scored if room["label"] == "abuse"]
    benign = [score for room, score, _ in scored if room["label"] == "benign"]
    gold = [room["label"] == "abuse" for room, _, _ in scored]
    at_medium = [level in ("medium", "high") for _, _, level in scored]
    p, r, _f, tp, fp, fn = prf(at_medium, gold)
    sec.notes.append(
        f"rooms at level medium or high: precision {p:.2f}, recall {r:.2f} "
        f"(TP {tp}, FP {fp}, FN {fn}); lowest abuse room {min(abuse):.1f}, highest benign "
        f"room {max(benign):.1f}; target: every abuse room above every benign room"
    )
    return min(abuse) > max(benign)


if __name__ == "__main__":
    print(run(Path()).markdown())
