"""Out-of-fold figures for the message model's thresholds, on the sets it is trained on.

    python eval/lexicon_model_oof.py [flag:strong:clear[:sure[:second]] ...]
        [--top_n=N --min_score=S | --ngrams-only] [--cues | --no-cues]
        [--squeeze | --no-squeeze] [--jamo | --no-jamo]
        [--gated | --no-gated] [--c=C] [--add=FILE ...]

Each training set (the tuning set, the development splits and, since engine m10, the retired
held-out sets A to I, since m12 J and K, since m13 L, since m14 M; never the held-out set N) is
scanned by the full scanner with a model trained on the other sets, so every message is
read by a model that has not seen it; the thresholds (``flag``: the finding with an
anchor, ``strong``: the finding without one, ``clear``: below it a message reads as
benign) are then chosen on these figures (engine m7: the highest recall over all sets
together at a precision of at least 0.9; ``strong`` left off, see docs/text.md; engine
m8: ``flag`` 0.5, since 0.45, a little more recall at 0.901, flagged more of the web
interface's own strings than engine m7 did). Prints
overall, and why the missed abuse messages were missed (``gate``: the model did not read
the message, ``prob``: it read it below the threshold, ``anchor``: above it, but without
an anchor or in a benign sense). The folds have the shipped model's features unless told
(engine m9: ``--top_n``/``--min_score``, kiwipiepy morphemes and their CoNg neighbours;
``--ngrams-only``: character n-grams alone, engine m8's model; engine m10: ``--cues`` or
``--no-cues``, the lexicon's cue categories and their pairs; engine m11: ``second``, the
probability a message read only for naming a room and something happening to it needs, 1.0
off; engine m12: ``--squeeze`` or ``--no-squeeze``, the n-grams of the text without its
spaces, and ``--c=C``, the inverse regularisation strength; after engine m13:
``--jamo`` or ``--no-jamo``, the n-grams of the text's letters, ``--gated`` or
``--no-gated``, a model trained only on the messages the scanner lets it read (at the
shipped ``second`` and ``strong``), and ``--add=FILE``, one more
training set, scored as a fold of its own too, and a subtotal over
the harness's training sets alone, so that a run with more training data and one without
compare on the same messages). A training per set, then a scan per triple: run it under
``nice``.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from eval_lexicon import HELDOUT_SETS, SEEN_FILES  # noqa: E402 - the model's training files

TRAINING = list(SEEN_FILES)


def main(argv: list[str]) -> None:
    from haechi.analyze.text import model as M
    from haechi.analyze.text.lexicon import load_lexicon
    from haechi.analyze.text.scan import Scanner

    assert not set(HELDOUT_SETS) & set(TRAINING)
    shipped = M.load_model()
    shape: dict[str, Any] = {
        "morphemes": shipped.morphemes,
        "top_n": shipped.top_n,
        "min_score": shipped.min_score,
        "cues": shipped.cues,
        "squeeze": shipped.squeeze,
        "c": shipped.c,
        "jamo": shipped.jamo,
        "gated": shipped.gated,
        # The tiers a gated training reads through (the grid's values are used to scan).
        "second": shipped.second,
        "strong": shipped.strong,
    }
    grid = []
    base = list(TRAINING)
    for arg in argv:
        name, _eq, value = arg.removeprefix("--").partition("=")
        if arg == "--ngrams-only":
            shape.update(morphemes=False, top_n=0, min_score=1.0)
        elif arg in ("--cues", "--no-cues"):
            shape["cues"] = arg == "--cues"
        elif arg in ("--squeeze", "--no-squeeze"):
            shape["squeeze"] = arg == "--squeeze"
        elif arg in ("--jamo", "--no-jamo"):
            shape["jamo"] = arg == "--jamo"
        elif arg in ("--gated", "--no-gated"):
            shape["gated"] = arg == "--gated"
        elif name == "c":
            shape["c"] = float(value)
        elif name == "add":
            TRAINING.append(Path(value).resolve())
        elif name in ("top_n", "min_score"):
            shape[name] = int(value) if name == "top_n" else float(value)
            shape["morphemes"] = True
        else:
            grid.append(tuple(float(x) for x in arg.split(":")))
    grid = grid or [(shipped.flag, shipped.strong, shipped.clear, shipped.sure, shipped.second)]
    lex = load_lexicon()
    scanner = Scanner(lex)
    flag_at = lex.scoring.message_flag
    assert not set(HELDOUT_SETS[-1:]) & set(TRAINING)  # the target set is never a fold
    print(f"features: {shape}; sets: {[p.stem for p in TRAINING]}", flush=True)
    folds = {
        held: M.train(
            [p for p in TRAINING if p != held], 0.5, shipped.points, shipped.benign, **shape
        )
        for held in TRAINING
    }
    rows = {held: M._load_rows([held]) for held in TRAINING}
    for flag, strong, clear, *more in grid:
        sure = more[0] if more else 1.0
        second = more[1] if len(more) > 1 else 1.0
        total = [0, 0, 0]
        sub = [0, 0, 0]  # the harness's training sets only
        parts = []
        for held, fold in folds.items():
            scanner.model = dataclasses.replace(
                fold, flag=flag, strong=strong, clear=clear, sure=sure, second=second
            )
            tp = fp = fn = 0
            why: dict[str, int] = {}
            for r in rows[held]:
                scan = scanner.scan(r["text"])
                pred = scan.points(lex) >= flag_at
                gold = r["label"] == "abuse"
                tp, fp, fn = (
                    tp + (pred and gold),
                    fp + (pred and not gold),
                    fn + (gold and not pred),
                )
                if gold and not pred:
                    p = scan.model_p
                    k = "gate" if p is None else ("prob" if p < flag else "anchor")
                    why[k] = why.get(k, 0) + 1
            parts.append(
                f"{held.stem}: {tp / (tp + fp or 1):.3f} / {tp / (tp + fn or 1):.3f} "
                f"(FP {fp}, FN {fn}) {why}"
            )
            total = [total[0] + tp, total[1] + fp, total[2] + fn]
            if held in base:
                sub = [sub[0] + tp, sub[1] + fp, sub[2] + fn]
        stp, sfp, sfn = sub
        tp, fp, fn = total
        print(
            f"flag {flag} strong {strong} clear {clear} sure {sure} second {second}: "
            f"all {tp / (tp + fp):.3f} / "
            f"{tp / (tp + fn):.3f} (FP {fp}, FN {fn}); the {len(base)} harness sets "
            f"{stp / (stp + sfp):.3f} / {stp / (stp + sfn):.3f} (FP {sfp}, FN {sfn})\n  "
            + "\n  ".join(parts),
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
