"""Matching on a real data directory (both back ends): every ingest is matched as it is
analysed, banks retro-hunt, duplicate groups, custody, idempotence, deletion."""

from __future__ import annotations

import io
import json
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from tests.match.conftest import cat_photo

from haechi.analyze.hashes.pdqcore import hamming
from haechi.app import App
from haechi.demo.images import DemoAssets
from haechi.domain import UsageError
from haechi.match import events
from haechi.match.bank_sources import add_blobs, add_files, add_hashes
from haechi.match.banks import create_bank, delete_bank, get_bank, list_banks, remove_items
from haechi.match.formats import FormatError
from haechi.match.groups import duplicate_group, duplicate_groups
from haechi.match.index import IndexSet
from haechi.match.lists import export_bank, import_list
from haechi.match.lookup import list_matches, lookup_exact, match_file
from haechi.match.matching import run_matching
from haechi.run.verify import verify
from haechi.store.models import Blob, CustodyEvent, SourceFile
from haechi.store.tables.match import MatchRow

ASSETS = DemoAssets()


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _events(app: App, kind: str) -> list[dict]:
    with app.db.connect() as conn:
        bodies = conn.execute(
            select(CustodyEvent.body)
            .where(CustodyEvent.event_type == kind)
            .order_by(CustodyEvent.seq)
        ).scalars()
        return [orjson.loads(b) for b in bodies]


def _capture_pairs(app: App) -> dict[frozenset[str], MatchRow]:
    return {frozenset((m.blob_sha256, m.target_blob_sha256)): m
            for m in list_matches(app, limit=None) if not m.is_bank}  # fmt: skip


def test_resized_reposts_are_matched_when_analysed(demo_app: App) -> None:
    pairs = _capture_pairs(demo_app)
    cat, small = _sha(ASSETS.cat.data), _sha(ASSETS.cat_small.data)
    sky, sky_small = _sha(ASSETS.sky.data), _sha(ASSETS.sky_small.data)
    assert frozenset((cat, small)) in pairs and frozenset((sky, sky_small)) in pairs
    m = pairs[frozenset((cat, small))]
    assert m.kind == "pdq" and 0 < (m.distance or 0) <= 31 and m.transform == "original"
    assert m.blob_sha256 == small  # recorded once, on the re-post (first posted later)
    assert m.stage == "whole" and m.region is None
    # unrelated pictures are not linked; an 8 % crop (4 % a side) is beyond whole-picture
    # PDQ (82 bits, measured) but not the region stage, which says which part it shows
    latte, crop = _sha(ASSETS.latte.data), _sha(ASSETS.latte_crop.data)
    m = pairs[frozenset((latte, crop))]
    assert m.kind == "region" and m.stage == "region" and m.blob_sha256 == crop
    assert m.region is not None and m.region["pairs"] >= 2
    for got, want in zip(m.region["target_box"], (0.04, 0.04, 0.96, 0.96), strict=True):
        assert abs(got - want) <= 0.02
    assert not any(latte in p and cat in p for p in pairs)


def test_pair_direction_does_not_depend_on_which_file_was_hashed_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-posts are hashed first and the originals last (a pool finishes files in any
    order): each pair is still recorded once, on the re-post, with the original as target."""
    from tests.analyzers_for_tests import PdqHeldBack

    from haechi.app import init_home
    from haechi.collect.telegram_export import TelegramExportCollector
    from haechi.demo.export_builder import build_demo_export
    from haechi.run.analyze import AnalysisRunner
    from haechi.run.ingest import Ingestor

    app = init_home(tmp_path / "home")
    try:
        Ingestor(app, TelegramExportCollector(build_demo_export(tmp_path / "export"))).run()
        originals = [_sha(ASSETS.cat.data), _sha(ASSETS.sky.data)]
        # the workers build their analyzers by name: this one stands in for "pdq"
        monkeypatch.setenv("HAECHI_EXTRA_ANALYZERS", "pdq=tests.analyzers_for_tests:PdqHeldBack")
        monkeypatch.setenv("HAECHI_TEST_HOLD_BACK", ",".join(originals))
        first = AnalysisRunner(app, [PdqHeldBack()], workers=1).run()
        assert sum(first.errors.values()) == 2  # the originals, held back
        assert not any(set(originals) & pair for pair in _capture_pairs(app))
        monkeypatch.delenv("HAECHI_TEST_HOLD_BACK")
        AnalysisRunner(app, [PdqHeldBack()], workers=1, retry_errors=True).run()
        pairs = _capture_pairs(app)
        for original, repost in ((ASSETS.cat, ASSETS.cat_small), (ASSETS.sky, ASSETS.sky_small)):
            m = pairs[frozenset((_sha(original.data), _sha(repost.data)))]
            assert (m.blob_sha256, m.target_blob_sha256) == (_sha(repost.data), _sha(original.data))
        again = run_matching(app, rescan=True)
        assert again.new_matches == 0
        assert verify(app).ok
    finally:
        app.close()


def _stored(app: App, suffix: str) -> str:
    """The SHA-256 of the one captured file whose path ends with ``suffix``. The clip is
    looked up, not re-encoded here: libx264 has, rarely, given another byte stream for the
    same frames in a long test session, and the test is about matching, not encoding."""
    with app.db.connect() as conn:
        (sha,) = set(
            conn.execute(
                select(SourceFile.blob_sha256).where(SourceFile.path.endswith(suffix))
            ).scalars()
        )
    assert sha is not None
    return sha


def test_a_still_of_a_video_matches_the_video_frame(demo_app: App) -> None:
    """The export keeps a thumbnail of the rocket clip: a picture of its first frame."""
    pairs = _capture_pairs(demo_app)
    video, thumb = _stored(demo_app, ".mp4"), _stored(demo_app, ".mp4_thumb.jpg")
    pair = frozenset((video, thumb))
    m = pairs[pair]
    assert m.kind == "frame" and (m.distance or 99) <= 31 and m.details["video_frame"] == 0
    group = duplicate_group(demo_app, video)
    assert set(group.members) >= set(pair)


def test_a_reported_still_finds_the_stored_video(demo_app: App, tmp_path: Path) -> None:
    still = tmp_path / "still.jpg"
    still.write_bytes(demo_app.vault.read_bytes(_stored(demo_app, ".mp4_thumb.jpg")))
    create_bank(demo_app, "stills")
    add_files(demo_app, "stills", [still])
    kinds = {(m.kind, m.blob_sha256) for m in list_matches(demo_app, bank="stills", limit=None)}
    assert ("frame", _stored(demo_app, ".mp4")) in kinds


def test_every_match_is_a_signed_custody_event(demo_app: App) -> None:
    rows = list_matches(demo_app, limit=None)
    by_seq = {e["seq"]: e for e in _events(demo_app, events.MATCH)}
    assert rows and all(r.custody_seq in by_seq for r in rows)
    for r in rows:
        ev = by_seq[r.custody_seq]
        assert ev["subject"] == r.blob_sha256 and ev["data"]["distance"] == r.distance
        assert ev["data"]["kind"] == r.kind
    assert verify(demo_app).ok


def test_matching_again_records_nothing_new(demo_app: App) -> None:
    before = len(_events(demo_app, events.MATCH))
    again = run_matching(demo_app)
    rescan = run_matching(demo_app, rescan=True)
    assert again.new_matches == 0 and rescan.new_matches == 0 and rescan.signals_scanned > 0
    assert len(_events(demo_app, events.MATCH)) == before


def test_duplicate_groups_say_where_and_first(demo_app: App) -> None:
    groups = {g.key: g for g in duplicate_groups(demo_app)}
    latte = duplicate_group(demo_app, _sha(ASSETS.latte.data))
    # its 8 % crop, re-posted later, is one of the group (found by the region stage)
    assert set(latte.members) == {_sha(ASSETS.latte.data), _sha(ASSETS.latte_crop.data)}
    assert latte.key in groups and latte.chats >= 3
    assert latte.summary().startswith(
        f"posted in {latte.chats} chats, first in 커피 사진 채널 · Coffee Photos on 2024-08-"
    )
    cat = duplicate_group(demo_app, _sha(ASSETS.cat_small.data))
    assert set(cat.members) >= {_sha(ASSETS.cat.data), _sha(ASSETS.cat_small.data)}
    assert cat.first is not None and cat.first.blob_sha256 == _sha(ASSETS.cat.data)
    assert "different files" in cat.summary() and cat.as_dict()["chats"] == cat.chats
    alone = duplicate_group(demo_app, _sha(ASSETS.coins.data))
    assert alone.members == [_sha(ASSETS.coins.data)] and alone.chats == 1
    assert all(g.chats >= 2 for g in groups.values())


def test_a_bank_from_a_victims_file_hunts_stored_copies(demo_app: App, tmp_path: Path) -> None:
    create_bank(demo_app, "victim file", origin="support centre", labels=["reported"])
    flipped = cat_photo(tmp_path / "mine.jpg", flip=True)
    report = add_files(demo_app, "victim file", [flipped], notes="her own copy")
    assert report.items_added == 1 and report.signals_added == {"md5": 1, "sha256": 1, "pdq": 1}
    assert report.matches_found >= 2  # the channel's cat and its resized forward
    hits = list_matches(demo_app, bank="victim file", limit=None)
    found = {h.blob_sha256: h for h in hits}
    assert _sha(ASSETS.cat.data) in found and _sha(ASSETS.cat_small.data) in found
    both = list_matches(demo_app, blobs=[_sha(ASSETS.cat.data), _sha(ASSETS.sky.data)], limit=None)
    assert {m.blob_sha256 for m in both if m.bank_name == "victim file"} == {_sha(ASSETS.cat.data)}
    assert any(m.target_blob_sha256 == _sha(ASSETS.sky.data) for m in both)
    assert all(h.transform not in (None, "original") for h in hits)  # found mirrored
    assert found[_sha(ASSETS.cat.data)].details["labels"] == ["reported"]
    added = _events(demo_app, events.BANK_ITEMS_ADDED)[-1]["data"]
    assert added["source"] == {"how": "files", "files": ["mine.jpg"]} and added["items"] == 1
    info = get_bank(demo_app, "victim file")
    assert info.items == 1 and info.matches == len(hits)
    # the picture itself is not kept anywhere: only hashes
    with demo_app.db.connect() as conn:
        assert conn.execute(select(Blob).where(Blob.md5 == report_md5(flipped))).first() is None


def test_the_hunt_searches_pages_of_hashes_at_once_and_finds_what_one_at_a_time_finds(
    demo_app: App, tmp_path: Path
) -> None:
    """The hunt looks a page of bank hashes up in one vectorised pass per index: over
    1,300 hashes (three pages) the stored files it records for each are those a search
    of that hash alone finds (``search_pdq``), at the same distance; md5s on the way."""
    import random

    from haechi.match.index import MEDIA_PDQ, MEDIA_VPDQ
    from haechi.match.search import media_targets, search_pdq
    from haechi.store.models import SignalRow

    rng = random.Random(11)
    with demo_app.db.connect() as conn:
        stored = conn.execute(select(SignalRow.value, SignalRow.blob_sha256).where(
            SignalRow.kind == "pdq", SignalRow.score >= 50)).all()  # fmt: skip
        md5s = conn.execute(select(Blob.md5, Blob.sha256).limit(3)).all()

    def flipped(value: str, bits: int) -> str:
        number = int(value, 16)
        for b in rng.sample(range(256), bits):
            number ^= 1 << b
        return f"{number:064x}"

    bits = [rng.choice([0, 9, 25, 31, 33, 45]) for _ in stored]  # 33 and 45: too far
    planted = [(sha, flipped(v, b), b) for (v, sha), b in zip(stored, bits, strict=True)]
    values = [f"{rng.getrandbits(256):064x}" for _ in range(1300)]
    for i, (_, v, _) in enumerate(planted):
        values[(i * 97 + 40) % len(values)] = v  # spread over the pages
    lines = [f"pdq {v}" for v in values] + [f"md5 {m}" for m, _ in md5s]
    path = tmp_path / "paged.te"
    path.write_text("\n".join(lines) + "\n")
    create_bank(demo_app, "paged hunt")
    report = import_list(demo_app, "paged hunt", path)
    assert report.items_added == len(set(values)) + len(md5s)
    indexes = IndexSet(demo_app)
    want: dict[tuple[str, str, str], int] = {}
    with demo_app.db.connect() as conn:
        for value in set(values):
            raws = search_pdq(indexes, {"original": value}, [MEDIA_PDQ, MEDIA_VPDQ], 31)
            media = media_targets(conn, [r.target_id for r in raws])
            for r in raws:
                kind = "pdq" if r.index == MEDIA_PDQ else "frame"
                key = (media[r.target_id].blob_sha256, kind, value)
                want[key] = min(want.get(key, 99), r.distance)
    hits = [h for h in list_matches(demo_app, bank="paged hunt", limit=None) if h.stage != "region"]
    got = {(h.blob_sha256, h.kind, h.target_value): h.distance for h in hits if h.kind != "md5"}
    assert got == want
    near = {(sha, "pdq", v) for sha, v, b in planted if b <= 31}
    assert near and near <= set(got)
    exact = {(h.blob_sha256, h.target_value) for h in hits if h.kind == "md5"}
    assert exact == {(sha, m) for m, sha in md5s}


def report_md5(path: Path) -> str:
    import hashlib

    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def test_import_is_all_or_nothing_and_names_the_line(demo_app: App, tmp_path: Path) -> None:
    create_bank(demo_app, "partner list")
    sky_md5 = _md5_of(demo_app, _sha(ASSETS.sky_small.data))
    good = f"video_md5 {sky_md5}\npdq {'0' * 63}1\n"
    path = tmp_path / "list.txt"
    path.write_text(good + "pdq not-a-hash\n")
    with pytest.raises(FormatError, match=r"list.txt, line 3: .*Nothing was imported"):
        import_list(demo_app, "partner list", path)
    assert get_bank(demo_app, "partner list").items == 0
    report = import_list(demo_app, "partner list", path, skip_bad=True)
    assert report.items_added == 2 and [line for line, _ in report.skipped] == [3]
    exact = [m for m in list_matches(demo_app, bank="partner list", limit=None) if m.kind == "md5"]
    assert [m.blob_sha256 for m in exact] == [_sha(ASSETS.sky_small.data)] and exact[
        0
    ].distance == 0
    source = _events(demo_app, events.BANK_ITEMS_ADDED)[-1]["data"]["source"]
    assert source["skipped_lines"] == [3] and source["format"] == "te"
    again = import_list(demo_app, "partner list", path, skip_bad=True)
    assert again.items_added == 0 and again.duplicates == 2
    broken = tmp_path / "broken.json"  # a JSON list cut short: no line can be skipped
    broken.write_text('{"hashRecords": [{"hashValue": "' + "0" * 64 + '", "signalType"')
    for skip in (False, True):
        with pytest.raises(FormatError, match=r"^broken.json, line 1, .*Nothing was imported"):
            import_list(demo_app, "partner list", broken, fmt="stopncii", skip_bad=skip)
    assert get_bank(demo_app, "partner list").items == 2


def _md5_of(app: App, sha: str) -> str:
    with app.db.connect() as conn:
        return str(conn.execute(select(Blob.md5).where(Blob.sha256 == sha)).scalar_one())


def test_new_captures_are_matched_against_existing_banks(demo_app: App, tmp_path: Path) -> None:
    """A file ingested after its bank exists is matched by the analysis hook itself."""
    from PIL import Image
    from tests.helpers import make_export
    from tests.match.conftest import ingest_and_hash

    export = make_export(tmp_path / "ex2", messages=30, media=3, seed=9)
    photo = sorted((export / "photos").glob("*.jpg"))[0]
    reported = tmp_path / "reported.png"  # the victim's copy: another format, upscaled
    with Image.open(photo) as im:
        im.resize((im.width * 2, im.height * 2)).save(reported)
    create_bank(demo_app, "before ingest")
    report = add_files(demo_app, "before ingest", [reported])
    assert report.matches_found == 0  # not stored yet
    ingest_and_hash(demo_app, export)
    hits = list_matches(demo_app, bank="before ingest", limit=None)
    assert [h.blob_sha256 for h in hits] == [_sha(photo.read_bytes())]
    assert hits[0].kind == "pdq" and (hits[0].distance or 99) <= 31


def test_stored_files_can_become_bank_items(demo_app: App) -> None:
    create_bank(demo_app, "from evidence")
    report = add_blobs(demo_app, "from evidence", [_sha(ASSETS.coins.data)], labels=["known"])
    assert report.signals_added == {"md5": 1, "sha256": 1, "pdq": 1}
    hits = list_matches(demo_app, bank="from evidence", limit=None)
    kinds = {h.kind for h in hits if h.blob_sha256 == _sha(ASSETS.coins.data)}
    assert kinds == {"md5", "sha256", "pdq"}
    with pytest.raises(UsageError, match="No stored file"):
        add_blobs(demo_app, "from evidence", ["0" * 64])


def test_match_file_reports_without_recording(demo_app: App, tmp_path: Path) -> None:
    before = len(_events(demo_app, events.MATCH))
    probe = cat_photo(tmp_path / "probe.jpg", size=240, quality=60)
    result = match_file(demo_app, probe)
    stored = {h.target_blob_sha256 for h in result.hits if not h.is_bank}
    assert _sha(ASSETS.cat.data) in stored and result.quality == 100 and not result.stored
    assert all(h.distance is not None and h.distance <= 31 for h in result.hits)
    same = tmp_path / "same.jpg"
    same.write_bytes(ASSETS.coins.data)
    assert match_file(demo_app, same).stored
    assert len(_events(demo_app, events.MATCH)) == before
    assert lookup_exact(demo_app, sha256=_sha(ASSETS.coins.data))["stored"]


def test_a_stored_file_not_analysed_is_hashed_once_for_any_number_of_adds(
    demo_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored file without analyzer hashes is hashed from the vault's copy when it goes
    into a bank; adding it again (the same bank, another one) gives the same hashes without
    decrypting and hashing it again (issue 13: ~50 ms of each add from a match)."""
    from sqlalchemy import insert

    from haechi.match import bank_sources

    stored = demo_app.vault.put_bytes(cat_photo(tmp_path / "unanalysed.jpg", size=280).read_bytes())
    with demo_app.db.begin() as conn:
        conn.execute(insert(Blob).values(
            sha256=stored.sha256, md5=stored.md5, size=stored.size,
            stored_at="2026-01-01T00:00:00Z", kind="image", mime="image/jpeg",
            encrypted=bool(getattr(demo_app.vault, "encrypted", False)),
        ))  # fmt: skip
    calls = []
    real = bank_sources.perceptual_signals

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bank_sources, "perceptual_signals", counted)
    monkeypatch.setattr(bank_sources, "_hashed", type(bank_sources._hashed)())  # none kept
    create_bank(demo_app, "hashed once a")
    create_bank(demo_app, "hashed once b")
    first = add_blobs(demo_app, "hashed once a", [stored.sha256])
    again = add_blobs(demo_app, "hashed once a", [stored.sha256])
    other = add_blobs(demo_app, "hashed once b", [stored.sha256])
    assert len(calls) == 1
    assert first.signals_added["pdq"] >= 1 and other.signals_added == first.signals_added
    assert again.items_added == 0 and again.duplicates == sum(first.signals_added.values())


def test_deleting_a_bank_keeps_its_matches_and_unindexes_it(demo_app: App, tmp_path: Path) -> None:
    create_bank(demo_app, "to delete")
    add_files(demo_app, "to delete", [cat_photo(tmp_path / "c.jpg")])
    before = list_matches(demo_app, bank="to delete", limit=None)
    assert before
    delete_bank(demo_app, "to delete", reason="consent withdrawn")
    assert "to delete" not in {b.name for b in list_banks(demo_app)}
    after = list_matches(demo_app, bank="to delete", limit=None)
    assert [m.id for m in after] == [m.id for m in before] and all(m.bank_id is None for m in after)
    gone = _events(demo_app, events.BANK_DELETED)[-1]["data"]
    assert gone["reason"] == "consent withdrawn" and gone["items"] == 1
    result = match_file(demo_app, tmp_path / "c.jpg")
    assert not [h for h in result.hits if h.bank_name == "to delete"]
    with pytest.raises(UsageError, match="no bank called"):
        get_bank(demo_app, "to delete")


def test_remove_items_and_export_round_trip(demo_app: App, tmp_path: Path) -> None:
    create_bank(demo_app, "export me", labels=["l1"])
    sky = _sha(ASSETS.sky.data)
    add_blobs(demo_app, "export me", [sky])
    add_hashes(demo_app, "export me", [("md5", "1" * 32)])
    for fmt in ("te", "te-csv", "stopncii", "vics"):
        out = export_bank(demo_app, "export me", tmp_path / f"out.{fmt}", fmt=fmt)
        assert out["items"] == 2 and len(out["sha256"]) == 64
    exported = _events(demo_app, events.BANK_EXPORTED)
    assert [e["data"]["format"] for e in exported[-4:]] == ["te", "te-csv", "stopncii", "vics"]
    create_bank(demo_app, "re-imported")
    back = import_list(demo_app, "re-imported", tmp_path / "out.te")
    assert back.signals_added == {"md5": 2, "sha256": 1, "pdq": 1}
    body = json.loads((tmp_path / "out.stopncii").read_text())
    assert {r["signalType"] for r in body["hashRecords"]} == {"ImagePDQ", "VideoMD5"}
    items = get_bank(demo_app, "export me").items
    from haechi.match.banks import bank_items

    first = bank_items(demo_app, "export me", limit=1)[0]
    assert remove_items(demo_app, "export me", [first.id], reason="duplicate") == 1
    assert get_bank(demo_app, "export me").items == items - 1


def test_index_rebuild_gives_the_same_answers(demo_app: App) -> None:
    indexes = IndexSet(demo_app)
    indexes.sync()
    probe = [ASSETS.cat.data, ASSETS.sky_small.data]
    from haechi.analyze.hashes.pdq import hash_picture

    queries = [hash_picture(io.BytesIO(p))[0].pdq.hex for p in probe]
    before = [
        sorted((h.id, h.distance) for h in hits)
        for hits in indexes["media-pdq"].search(queries, 31)
    ]
    counts = indexes.rebuild()
    assert counts["media-pdq"] >= 10
    again = IndexSet(demo_app)
    after = [
        sorted((h.id, h.distance) for h in hits) for hits in again["media-pdq"].search(queries, 31)
    ]
    assert before == after and all(before)
    # the indexes are derived: deleting them loses nothing
    import shutil

    shutil.rmtree(demo_app.settings.index_dir / "pdq")
    assert IndexSet(demo_app).sync()["media-pdq"] == counts["media-pdq"]


def test_names_are_checked(demo_app: App) -> None:
    with pytest.raises(UsageError, match="bank name"):
        create_bank(demo_app, "../etc")
    create_bank(demo_app, "dup name")
    with pytest.raises(UsageError, match="exists already"):
        create_bank(demo_app, "dup name")
    with pytest.raises(UsageError, match="not a pdq hash"):
        add_hashes(demo_app, "dup name", [("pdq", "abc")])


def test_near_threshold_is_inclusive(demo_app: App) -> None:
    """31 bits match, 32 do not (python-threatexchange's <= PDQ_CONFIDENT_MATCH_THRESHOLD)."""
    from haechi.analyze.hashes.pdq import hash_picture

    base = hash_picture(io.BytesIO(ASSETS.coins.data))[0].pdq.hex
    value = int(base, 16)
    at31 = f"{value ^ ((1 << 31) - 1):064x}"
    at32 = f"{value ^ ((1 << 32) - 1):064x}"
    assert hamming(base, at31) == 31 and hamming(base, at32) == 32
    create_bank(demo_app, "threshold")
    add_hashes(demo_app, "threshold", [("pdq", at31)])
    add_hashes(demo_app, "threshold", [("pdq", at32)])
    hits = list_matches(demo_app, bank="threshold", limit=None)
    assert [h.distance for h in hits if h.blob_sha256 == _sha(ASSETS.coins.data)] == [31]
    with demo_app.db.connect() as conn:
        n = conn.execute(select(func.count()).select_from(MatchRow)).scalar_one()
    assert n >= len(hits)


def test_demo_step_shows_groups_and_a_bank_match(demo_app: App) -> None:
    from rich.console import Console

    from haechi.demo.steps import DemoContext, s40_match

    buf = io.StringIO()
    ctx = DemoContext(demo_app, demo_app.settings.home, Console(file=buf, width=200))
    s40_match.run(ctx)
    text = buf.getvalue()
    assert ctx.ok and ctx.facts["match"]["bank_matches"] >= 2
    assert "posted in 3 chats, first in 커피 사진 채널" in text
    # the export's cropped re-posts: far for whole-picture PDQ, found by the region stage
    assert "8% crop of the coffee photo: whole-picture PDQ" in text
    assert "12% crop of the chelsea photo: whole-picture PDQ" in text
    assert ctx.facts["crops_linked"] == 2 and text.count("linked by the region stage to") == 2
    assert "flipy" in text  # her mirrored copy found the stored originals
    s40_match.run(ctx)  # a second demo run adds nothing and still shows the matches
    assert ctx.ok


def test_a_run_without_the_hook_is_caught_up(sqlite_app: App, tmp_path: Path) -> None:
    """A crash between an analysis commit and its hook: the next run matches what is left."""
    from haechi.analyze.hashes.pdq import PdqAnalyzer
    from haechi.collect.telegram_export import TelegramExportCollector
    from haechi.demo.export_builder import build_demo_export
    from haechi.run.analyze import AnalysisRunner
    from haechi.run.ingest import Ingestor
    from haechi.store.tables.match import SignalScan

    Ingestor(sqlite_app, TelegramExportCollector(build_demo_export(tmp_path / "x"))).run()
    runner = AnalysisRunner(sqlite_app, [PdqAnalyzer()], workers=1)
    runner.hooks = []  # as if the process died right after committing
    runner.run()
    assert list_matches(sqlite_app, limit=None) == []
    report = run_matching(sqlite_app)
    assert report.signals_scanned >= 10 and report.new_matches >= 3
    with sqlite_app.db.connect() as conn:
        scanned = conn.execute(select(func.count()).select_from(SignalScan)).scalar_one()
    assert scanned == report.signals_scanned
    assert run_matching(sqlite_app).signals_scanned == 0


def test_the_matches_page_says_which_region_matched(demo_app: App) -> None:
    """A re-post found by the region stage says, on the web's matches page as on the
    command line, which part of the earlier picture it is and what confirmed it (issue 16:
    every match says which stage and which region matched), in the page's language."""
    from tests.web.conftest import PASSWORD, client_of, log_in

    from haechi.auth.accounts import add_user
    from haechi.auth.types import cli_actor
    from haechi.match.describe import describe_region

    run_matching(demo_app)
    regions = [m for m in list_matches(demo_app, banks_only=False, limit=None) if m.region]
    assert regions, "the demo's cropped re-posts were not found by the region stage"
    add_user(demo_app, "u_regions", PASSWORD, "investigator", actor=cli_actor("t"), reason="t")
    with client_of(demo_app) as web:
        log_in(web, "u_regions")
        # Each match on the page that starts with it (other tests of the module add more).
        for m in regions:
            page = web.get(f"/matches?before={m.id + 1}").text
            row = page.split(f'id="match-{m.id}"', 1)[1].split("</tr>", 1)[0]
            assert describe_region(m.details, "en") in row
            ko = web.get(f"/matches?before={m.id + 1}",
                         headers={"accept-language": "ko"}).text  # fmt: skip
            assert describe_region(m.details, "ko") in ko
            row_ko = ko.split(f'id="match-{m.id}"', 1)[1].split("</tr>", 1)[0]
            assert "영역 PDQ" in row_ko and "<td>region" not in row_ko  # no raw enum
        assert f"영역 {regions[0].details['pairs']}곳 일치" in ko
