"""Near-duplicates across chats, and a bank match: the channel's photos were forwarded
and re-posted, resized and re-compressed, in the other rooms; a (fictional) victim
brings her own copy of one of them — mirrored, smaller — to a support centre."""

from __future__ import annotations

from typing import TYPE_CHECKING

from haechi.demo.steps import DemoContext

if TYPE_CHECKING:
    from haechi.match.lookup import MatchInfo

ORDER = 40
TITLE = "match"
BANK = "demo: reported by a victim (fictional)"


def _reported_photo(ctx: DemoContext) -> object:
    """The café cat as her phone kept it: mirrored, 300 px wide. Benign sample photo."""
    from PIL import Image

    from haechi.demo.images import fit, sample

    path = ctx.home / "reported-photo.jpg"
    picture = fit(sample("chelsea"), 300).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    picture.save(path, "JPEG", quality=75)
    return path


def _crops(ctx: DemoContext, found: list[MatchInfo]) -> None:
    """The export's cropped re-posts: far apart for whole-picture PDQ, linked (or not) by
    the region stage; say which, and for a link which part of the original it is."""
    import hashlib
    import io

    from haechi.analyze.hashes.pdq import hash_picture
    from haechi.analyze.hashes.pdqcore import hamming
    from haechi.demo.images import photo
    from haechi.i18n import current
    from haechi.match.describe import describe_region

    linked_count = 0
    for name, crop, quality in (("coffee", 0.08, 75), ("chelsea", 0.12, 80)):
        original = hash_picture(io.BytesIO(photo(name, quality=87).data))[0].pdq.hex
        data = photo(name, quality=quality, crop=crop).data
        bits = hamming(original, hash_picture(io.BytesIO(data))[0].pdq.hex)
        sha = hashlib.sha256(data).hexdigest()
        linked = next((m for m in found if m.blob_sha256 == sha and m.region), None)
        said = f"    {crop:.0%} crop of the {name} photo: whole-picture PDQ {bits} bits apart; "
        if linked is None:
            said += "not linked by the region stage either"
        else:
            said += (f"linked by the region stage to {(linked.target_blob_sha256 or '')[:12]}… "
                     f"({describe_region(linked.region or {}, current())})")  # fmt: skip
        ctx.out.print(said, highlight=False)
        linked_count += linked is not None
    ctx.facts["crops_linked"] = linked_count


def run(ctx: DemoContext) -> None:
    from pathlib import Path

    from haechi.match.bank_sources import add_files
    from haechi.match.banks import create_bank, list_banks
    from haechi.match.groups import duplicate_group, duplicate_groups
    from haechi.match.lookup import list_matches
    from haechi.match.matching import run_matching

    app, out = ctx.app, ctx.out
    run_matching(app)  # what the analysis hook did already; a no-op unless it was skipped
    groups = duplicate_groups(app)
    out.print(f"{len(groups)} pictures were posted in more than one chat:")
    for group in groups[:4]:
        out.print(f"  • {group.key[:12]}… {group.summary()}", highlight=False)
    repost = [m for m in list_matches(app, banks_only=False, limit=None) if not m.is_bank]
    for m in repost[:3]:
        earlier = (m.target_blob_sha256 or "")[:12]
        how = "shows a frame of the same video as" if m.kind == "frame" else "is a re-post of"
        out.print(f"    {m.blob_sha256[:12]}… {how} {earlier}… "
                  f"({m.kind.upper()} distance {m.distance})", highlight=False)  # fmt: skip
    _crops(ctx, repost)
    if BANK not in {b.name for b in list_banks(app)}:
        create_bank(app, BANK, origin="demo support centre, consent recorded", labels=["reported"])
    photo = Path(str(_reported_photo(ctx)))
    report = add_files(app, BANK, [photo], notes="her own copy; only its hashes are kept")
    hits = list_matches(app, bank=BANK, limit=None)
    out.print(f"bank {BANK!r}: {report.items_added} item added from {photo.name} "
              f"(hashes only), {len(hits)} stored files match it:", highlight=False)  # fmt: skip
    for h in hits:
        group = duplicate_group(app, h.blob_sha256)
        variant = f", {h.transform}" if h.transform and h.transform != "original" else ""
        out.print(f"  ✓ {h.blob_sha256[:12]}…  PDQ distance {h.distance}{variant} — "
                  f"{group.summary()}", highlight=False)  # fmt: skip
    ctx.facts["match"] = {"bank": BANK, "bank_matches": len(hits), "groups": len(groups)}
    ctx.ok &= bool(hits) and bool(groups)
    out.print(
        f"Try: haechi match --groups --home {ctx.home}   ·   haechi match {photo} --home "
        f"{ctx.home}   ·   haechi bank describe {BANK!r} --home {ctx.home}",
        highlight=False,
    )
