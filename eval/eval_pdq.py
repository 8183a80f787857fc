"""PDQ and vPDQ against the published reference hashes in ../shared/data/pdq and
../shared/data/videos: agreement with Meta's implementations, the bit drift of the fast
(reduced-size luma) JPEG decode, match recall at distance 31 on the bridge-mods set,
rotated/mirrored copies through dihedral hashes, Pillow modes, and vPDQ frame hashes
and video-to-video matches."""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

from common import Section
from haechi.analyze.hashes.decode import EXACT, FAST
from haechi.analyze.hashes.pdq import hash_picture
from haechi.analyze.hashes.pdqcore import hamming
from haechi.analyze.hashes.vpdq import VpdqSettings, hash_video

TOLERANCE = 16  # the reference implementations disagree among themselves by up to ~12 bits
THRESHOLD = 31
FAST_SIDES = (512, 384, 256, 128)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _group(file: str) -> str:
    parts = file.split("/")
    return parts[-2] if len(parts) > 2 else parts[-1]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def _reference_vectors(root: Path, section: Section) -> list[str]:
    rows = [r for r in _rows(root / "manifest.csv") if r["expected_pdq_hex"]]
    by_group: dict[str, list[tuple[int, int, int, int]]] = defaultdict(list)
    for r in rows:
        exact = hash_picture(root / r["file"], decode=EXACT)[0].pdq
        fast = hash_picture(root / r["file"], decode=FAST)[0].pdq
        by_group[_group(r["file"])].append(
            (hamming(exact.hex, r["expected_pdq_hex"]), hamming(fast.hex, r["expected_pdq_hex"]),
             exact.quality, int(r["expected_quality"] or exact.quality))
        )  # fmt: skip
    table = []
    all_exact, all_fast = [], []
    for group, values in sorted(by_group.items()):
        ex = [v[0] for v in values]
        fa = [v[1] for v in values if v[2] >= 50]
        all_exact += ex
        all_fast += fa
        table.append([f"`{group}`", str(len(values)), f"{statistics.fmean(ex):.1f} / {max(ex)}",
                      f"{statistics.fmean(fa):.1f} / {max(fa)}" if fa else "-",
                      f"{sum(d <= TOLERANCE for d in ex)}/{len(ex)}"])  # fmt: skip
    within = sum(d <= TOLERANCE for d in all_exact)
    fast_within = sum(d <= TOLERANCE for d in all_fast)
    section.rows.append(["reference vectors within 16 bits (exact decode)",
                         f"{within}/{len(all_exact)}", f"max {max(all_exact)} bits"])  # fmt: skip
    fast_note = f"max {max(all_fast)} bits"
    section.rows.append(["the same, fast decode (quality >= 50)",
                         f"{fast_within}/{len(all_fast)}", fast_note])  # fmt: skip
    section.passed &= within == len(all_exact) and fast_within == len(all_fast)
    computed = [r for r in _rows(root / "manifest.csv") if r["computed_pdq_hex"]]
    equal = sum(
        hash_picture(root / r["file"], decode=EXACT)[0].pdq.hex == r["computed_pdq_hex"]
        for r in computed
    )
    section.rows.append(["bit-identical with pdqhash (Meta's C++) on every test image",
                         f"{equal}/{len(computed)}", "exact decode"])  # fmt: skip
    section.passed &= equal == len(computed)
    return [
        "### Reference vectors (published hashes of the C++, Python, Java implementations)",
        "",
        _table(
            ["set", "images", "exact: mean / max bits", "fast: mean / max bits", "exact within 16"],
            table,
        ),
    ]


def _fast_drift(root: Path, section: Section) -> list[str]:
    jpegs = [r["file"] for r in _rows(root / "manifest.csv") if r["file"].endswith(".jpg")]
    exact = {f: hash_picture(root / f, decode=EXACT)[0].pdq for f in jpegs}
    good = [f for f in jpegs if exact[f].quality >= 50]
    bridge = sorted(f for f in jpegs if "/bridge-mods/" in f)
    original = next(f for f in bridge if f.endswith("aaa-orig.jpg"))
    table = []
    base_recall = sum(hamming(exact[original].hex, exact[f].hex) <= THRESHOLD for f in bridge)
    chosen = None
    for side in FAST_SIDES:
        fast = {f: hash_picture(root / f, decode=FAST, min_side=side)[0] for f in jpegs}
        drift = [hamming(exact[f].hex, fast[f].pdq.hex) for f in good]
        recall = sum(hamming(fast[original].pdq.hex, fast[f].pdq.hex) <= THRESHOLD for f in bridge)
        scales = sorted({fast[f].data["decode"] for f in jpegs})
        table.append([str(side), f"{statistics.fmean(drift):.2f}", str(max(drift)),
                      f"{sum(d <= 2 for d in drift)}/{len(drift)}", f"{recall}/{len(bridge)}",
                      ", ".join(scales)])  # fmt: skip
        if side == 256:
            chosen = (statistics.fmean(drift), max(drift), recall)
    assert chosen is not None
    section.rows.append(["fast decode (default, sides >= 256): mean / max drift",
                         f"{chosen[0]:.2f} / {chosen[1]} bits",
                         f"{len(good)} JPEGs of quality >= 50"])  # fmt: skip
    section.rows.append(["bridge-mods recall at 31, exact / fast",
                         f"{base_recall}/{len(bridge)} / {chosen[2]}/{len(bridge)}",
                         "unchanged" if base_recall == chosen[2] else "CHANGED"])  # fmt: skip
    section.passed &= chosen[2] == base_recall == len(bridge)
    distances = [hamming(exact[original].hex, exact[f].hex) for f in bridge]
    return [
        "### Fast decode: drift from the full decode, and bridge-mods recall",
        "",
        "The fast path decodes only the JPEG's luma plane, reduced in the DCT domain while "
        "both sides stay at least *side* pixels, and filters it with the full picture's "
        "geometry. Drift = bits from the exact decode's hash.",
        "",
        _table(
            [
                "min side",
                "mean drift",
                "max drift",
                "<= 2 bits",
                "bridge-mods at 31",
                "reductions used",
            ],
            table,
        ),
        "",
        f"Bridge-mods distances to the original (exact decode): {distances}; the fast path "
        "is kept because recall at 31 is unchanged.",
    ]


def _dihedral_and_modes(root: Path, section: Section) -> list[str]:
    out = []
    dih = root / "threatexchange" / "data" / "reg-test-input" / "dih"
    if dih.is_dir():
        files = sorted(dih.glob("*.jpg"))
        original = hash_picture(files[0], decode=EXACT)[0].pdq
        rows, found = [], 0
        for f in files[1:]:
            h = hash_picture(f, decode=EXACT)[0].pdq
            best = min((hamming(v, original.hex), n) for n, v in h.dihedral.items())
            found += best[0] <= THRESHOLD
            rows.append(
                [f"`{f.name}`", str(hamming(h.hex, original.hex)), f"{best[0]} ({best[1]})"]
            )
        section.rows.append(["rotated / mirrored bridge found through a dihedral variant",
                             f"{found}/{len(files) - 1}", "as stored: none within 31"])  # fmt: skip
        section.passed &= found == len(files) - 1
        out += ["### Rotations and mirror images", "",
                _table(["file", "bits as stored", "best dihedral variant"], rows)]  # fmt: skip
    modes = root / "threatexchange" / "data" / "misc-images" / "modes"
    if modes.is_dir():
        base = hash_picture(modes / "original.jpg", decode=EXACT)[0].pdq.hex
        rows = []
        worst = 0
        for f in sorted(modes.iterdir()):
            if f.suffix.lower() in (".png", ".jpg", ".webp") and f.name != "original.jpg":
                h = hash_picture(f, decode=EXACT)[0]
                d = hamming(h.pdq.hex, base)
                worst = max(worst, d)
                rows.append([f"`{f.name}`", h.data["mode"], str(d)])
        section.rows.append(["Pillow modes: worst distance to the RGB original", f"{worst} bits",
                             f"{len(rows)} files"])  # fmt: skip
        section.passed &= worst <= TOLERANCE
        out += ["", "### Pillow modes (the same photo saved in each mode)", "",
                _table(["file", "mode as stored", "bits from original.jpg"], rows)]  # fmt: skip
    return out


def _good(frames: list[Any]) -> list[str]:
    seen, out = set(), []
    for f in frames:
        if int(f[1]) >= 50 and f[2] not in seen:
            seen.add(f[2])
            out.append(f[2])
    return out


def _share(a: list[str], b: list[str]) -> float:
    return sum(any(hamming(x, y) <= THRESHOLD for y in b) for x in a) / len(a) if a else 0.0


def _videos(root: Path, section: Section) -> list[str]:
    rows = [r for r in _rows(root / "manifest.csv") if r["vpdq_reference"]]
    table = []
    ok_videos = 0
    for r in rows:
        ref = [line.split(",") for line in (root / r["vpdq_reference"]).read_text().split()]
        frames = hash_video(root / r["file"], VpdqSettings(seconds_per_hash=0))
        pairs = [(f, x) for f, x in zip(frames, ref, strict=False) if int(x[1]) >= 50]
        d = [hamming(f[2], x[2]) for f, x in pairs]
        ours, theirs = _good(frames), _good(ref)
        q, c = _share(ours, theirs), _share(theirs, ours)
        good = bool(d) and statistics.median(d) <= 4 and sum(v <= 16 for v in d) >= 0.95 * len(d)
        ok_videos += good and q >= 0.8
        table.append([f"`{Path(r['file']).name}`", f"{len(frames)}/{len(ref)}", str(len(d)),
                      f"{statistics.median(d):.0f}" if d else "-",
                      f"{sum(v <= 16 for v in d) / max(1, len(d)):.3f}",
                      f"{q:.3f} / {c:.3f}"])  # fmt: skip
    section.rows.append(["vPDQ of the sample videos agrees with the reference frame hashes",
                         f"{ok_videos}/{len(rows)}", "median <= 4 bits, >= 95 % within 16, "
                         "match >= 80 % (good frames)"])  # fmt: skip
    section.passed &= ok_videos == len(rows)
    # video to video, at haechi's default of one hash per second
    per_second = {r["file"]: _good(hash_video(root / r["file"])) for r in rows}
    groups = {r["file"]: r["content_group"] for r in rows}
    same = cross = same_found = cross_found = 0
    for a, b in combinations(sorted(per_second), 2):
        matched = (
            max(_share(per_second[a], per_second[b]), _share(per_second[b], per_second[a])) >= 0.8
        )
        if groups[a] == groups[b]:
            same += 1
            same_found += matched
        else:
            cross += 1
            cross_found += matched
    pairs_found = f"{same_found}/{same} / {cross_found}/{cross}"
    section.rows.append(["video pairs matched, same / different content (1 hash/s)",
                         pairs_found, "by content group"])  # fmt: skip
    section.passed &= cross_found == 0
    return [
        "### vPDQ (every frame) against the reference frame hashes",
        "",
        "Frames of quality < 50 (dark, flat) differ between decoders and are never matched; "
        "they are left out of the distances. Match = share of one side's distinct good "
        "frames with a counterpart within 31 bits on the other (ours / reference's).",
        "",
        _table(
            [
                "video",
                "frames ours/ref",
                "good frames",
                "median bits",
                "<= 16 bits",
                "match ours in ref / ref in ours",
            ],
            table,
        ),
        "",
        f"Video to video at one hash per second: {same_found} of {same} same-content pairs "
        f"match (cuts, logos, grey and sepia versions of one clip), {cross_found} of {cross} "
        "different-content pairs.",
    ]


class DetailedSection(Section):
    """A section with detail tables after its targets line."""

    details: str = ""

    def markdown(self) -> str:
        return super().markdown() + ("\n" + self.details + "\n" if self.details else "")


def run(data: Path) -> Section:
    section = DetailedSection("PDQ and vPDQ (hashes against Meta's reference values)")
    pdq, videos = data / "pdq", data / "videos"
    if not (pdq / "manifest.csv").exists():
        section.skipped = f"no {pdq / 'manifest.csv'}"
        return section
    section.header = ["measure", "result", "note"]
    parts = _reference_vectors(pdq, section)
    parts += ["", *_fast_drift(pdq, section)]
    parts += ["", *_dihedral_and_modes(pdq, section)]
    if (videos / "manifest.csv").exists():
        parts += ["", *_videos(videos, section)]
    else:
        section.notes.append(f"vPDQ skipped: no {videos / 'manifest.csv'}")
    section.intro = (__doc__ or "").strip().replace("\n", " ")
    section.details = "\n".join(parts)
    return section
