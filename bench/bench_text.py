"""Text benchmark: lexicon + patterns + rules + identifiers, messages per second on one core.

    python bench/bench_text.py --messages 1000000 --baseline-sample 100000

Messages are made in memory with the ingest benchmark's phrase tables (benign Korean and
English chatter with links, mentions and hashtags), plus 1% taken from the labelled
evaluation set (abuse and benign) and 0.5% with identifiers (invite links, wallets,
phones), so hits, kiwipiepy confirmations and entity validation are all exercised.
Everything runs in this one process: the figure is per core.

Baselines, measured in the same run on the first ``--baseline-sample`` messages:
- *naive substring*: lower-case the text, test every lexicon form with ``in`` and run one
  regex per identifier kind: no normalisation, so it misses spacing, jamo, zero-width and
  look-alike evasions (its recall on the evasion cases is printed beside);
- *kiwipiepy on every message*: what "Korean-aware" costs when the morphological analyser
  sees every message instead of only the candidate hits;
- *haechi without the derived evasion forms* (``Scanner(lexicon, derived=False)``): what the
  initial-consonant, by-ear, romanised, loanword and mixed-script views cost.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

EVASIONS = [
    ("지 인 능 욕 해줄 사람", True),
    ("ㅈㅣㅇㅣㄴ능욕 ㄱㄴ?", True),
    ("지\u200b인\u200c능욕방 링크", True),
    ("ｎｕｄｉｆｙ any photo", True),
    ("undr\u0435ss anybody free", True),
    ("nud1fy her pics", True),
    ("u n d r e s s anybody", True),
    ("pаздеть бот", True),
    ("ㅈㅇㄴㅇ 해드림", True),
    ("jiin neungyok bang", True),
    ("딥fake 봇 주소", True),
    ("누디파이 봇", True),
]
IDENTIFIERS = [
    "입장 https://t.me/+AbCdEf123456 대피방",
    "BTC 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa 입금",
    "USDT(TRC20) TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL",
    "문의 010-1234-5678 / open.kakao.com/o/sAbCdEf1",
    "ETH 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "봇 @maker_demo_bot 으로",
]


def make_messages(n: int, seed: int = 1) -> list[str]:
    import gen_export

    rng = random.Random(seed)
    content = gen_export._Content(rng)
    labelled = [
        json.loads(line)["text"]
        for line in (ROOT / "eval" / "data" / "lexicon_messages.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
        if line
    ]
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.01:
            out.append(rng.choice(labelled))
        elif r < 0.015:
            out.append(rng.choice(IDENTIFIERS))
        else:
            parts = content.parts()
            out.append("".join(p if isinstance(p, str) else p["text"] for p in parts))
    return out


class Naive:
    """Substring tests over the lexicon's forms plus one regex per identifier kind."""

    def __init__(self) -> None:
        from haechi.analyze.text.lexicon import load_lexicon

        lex = load_lexicon()
        self.forms = [(f.lower(), t.id) for t in lex.terms for f in t.forms]
        self.regexes = [
            re.compile(p)
            for p in (
                r"https?://\S+",
                r"t\.me/\S+",
                r"@\w{4,32}",
                r"[\w.+-]+@[\w-]+\.[\w.]+",
                r"\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\b",
                r"\bbc1[02-9ac-hj-np-z]{8,87}\b",
                r"\b0x[0-9a-fA-F]{40}\b",
                r"\bT[1-9A-HJ-NP-Za-km-z]{33}\b",
                r"\b01[016789]-?\d{3,4}-?\d{4}\b",
                r"open\.kakao\.com/o/\w+",
                r"discord\.gg/\w+",
            )
        ]

    def scan(self, text: str) -> tuple[list[str], list[str]]:
        low = text.lower()
        terms = [tid for form, tid in self.forms if form in low]
        ents = [m.group() for rx in self.regexes for m in rx.finditer(text)]
        return terms, ents


def timed(fn, items: list[str]) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for text in items:
        fn(text)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--baseline-sample", type=int, default=100_000)
    ap.add_argument("--kiwi-sample", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=1, help="passes over the messages (median)")
    args = ap.parse_args()

    from haechi.analyze.text.lexicon import load_lexicon
    from haechi.analyze.text.matcher import _Kiwi
    from haechi.analyze.text.scan import Scanner

    t0 = time.perf_counter()
    msgs = make_messages(args.messages)
    made = time.perf_counter() - t0
    scanner = Scanner(load_lexicon())
    scanner.scan("워밍업 지인능욕 다이아")  # compile, load kiwipiepy once (not timed)
    calls_before = _Kiwi.calls
    ours = [timed(scanner.scan, msgs) for _ in range(args.repeat)]
    ours_s = statistics.median(ours)
    kiwi_calls = (_Kiwi.calls - calls_before) // args.repeat
    flagged = sum(
        1 for m in msgs[: args.baseline_sample] if scanner.scan(m).points(scanner.lexicon) >= 4
    )

    naive = Naive()
    sample = msgs[: args.baseline_sample]
    naive_s = timed(naive.scan, sample)
    ours_sample_s = timed(scanner.scan, sample)
    plain = Scanner(load_lexicon(), derived=False)
    plain.scan("워밍업 지인능욕 다이아")
    plain_sample_s = timed(plain.scan, sample)

    from kiwipiepy import Kiwi

    kiwi = Kiwi()
    kiwi.tokenize("워밍업")
    ksample = msgs[: args.kiwi_sample]
    forms = [f for f, _ in naive.forms]

    def kiwi_every(text: str) -> None:
        lemmas = "".join(t.form for t in kiwi.tokenize(text))
        for f in forms:
            _ = f in lemmas

    kiwi_s = timed(kiwi_every, ksample)

    naive_hits = sum(1 for text, _ in EVASIONS if naive.scan(text)[0])
    ours_hits = sum(
        1 for text, _ in EVASIONS if [f for f in scanner.scan(text).result.findings if f.points]
    )
    result = {
        "messages": len(msgs),
        "generate_s": round(made, 1),
        "haechi_s": round(ours_s, 2),
        "haechi_msgs_per_s_per_core": round(len(msgs) / ours_s),
        "kiwi_calls": kiwi_calls,
        "kiwi_calls_per_1000_msgs": round(1000 * kiwi_calls / len(msgs), 2),
        "flagged_share_in_sample": round(flagged / len(sample), 4),
        "baseline_sample": len(sample),
        "haechi_sample_msgs_per_s": round(len(sample) / ours_sample_s),
        "naive_substring_msgs_per_s": round(len(sample) / naive_s),
        "without_derived_forms_msgs_per_s": round(len(sample) / plain_sample_s),
        "kiwi_every_message_sample": len(ksample),
        "kiwi_every_message_msgs_per_s": round(len(ksample) / kiwi_s),
        "evasions_found": {
            "haechi": f"{ours_hits}/{len(EVASIONS)}",
            "naive": f"{naive_hits}/{len(EVASIONS)}",
        },
    }
    print(json.dumps(result, ensure_ascii=False))
    vs_naive = result["haechi_sample_msgs_per_s"] / result["naive_substring_msgs_per_s"]
    vs_kiwi = result["haechi_sample_msgs_per_s"] / result["kiwi_every_message_msgs_per_s"]
    vs_plain = result["haechi_sample_msgs_per_s"] / result["without_derived_forms_msgs_per_s"]
    print(
        f"text: {result['messages']:,} msgs in {result['haechi_s']} s = "
        f"{result['haechi_msgs_per_s_per_core']:,} msg/s per core (kiwipiepy called on "
        f"{kiwi_calls:,} candidate hits); naive substring "
        f"{result['naive_substring_msgs_per_s']:,} msg/s (ratio {vs_naive:.2f}x, finds "
        f"{naive_hits}/{len(EVASIONS)} evasions vs {ours_hits}/{len(EVASIONS)}); kiwipiepy on "
        f"every message {result['kiwi_every_message_msgs_per_s']:,} msg/s "
        f"(ratio {vs_kiwi:.1f}x); without the derived evasion forms "
        f"{result['without_derived_forms_msgs_per_s']:,} msg/s (ratio {vs_plain:.2f}x)",
        flush=True,
    )


if __name__ == "__main__":
    main()
