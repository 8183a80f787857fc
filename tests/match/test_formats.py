"""List formats: parsing, bad records named by line, round trips, and python-threatexchange
as the oracle of what its tools and HMA read and write."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from haechi.match import formats
from haechi.match.formats import stopncii
from haechi.match.formats.base import BadRecord, FormatError, ParsedItem, StoredItem, normalize

PDQ1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
PDQ2 = "d8f8f1eec0f4a84f0e37022a078f63f0b36e2ed596621e1d33e6239c4e9c9b22"
MD5 = "d35c785545392755e7e4164457657269"
SHA = "ab" * 32


def _read(path: Path, fmt: str = "auto", **kw: str) -> list[ParsedItem | BadRecord]:
    return list(formats.read(path, fmt, **kw))


def _stored(signals: list[tuple[str, str]], **kw: object) -> StoredItem:
    base: dict = dict(id=1, external_id=None, labels=["victim-a"], attributes={}, notes=None,
                      origin=None, added_at="2026-01-01T00:00:00Z")  # fmt: skip
    base.update(kw)
    return StoredItem(signals=[(k, v, None) for k, v in signals], **base)


def test_normalize_checks_and_lowercases() -> None:
    assert normalize("PDQ", PDQ1.upper()).value == PDQ1
    for kind, value in (("pdq", PDQ1[:-1]), ("md5", "zz" * 16), ("sha256", MD5), ("tlsh", "x")):
        with pytest.raises(ValueError):
            normalize(kind, value)


def test_signal_file_types_comments_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "signals.txt"
    path.write_text(
        f"# partner list\npdq {PDQ1}\nvideo_md5 {MD5}\n\nurl https://example.com/x\n"
        f"pdq nothex\nbogus {MD5}\n{PDQ2}\n",
        encoding="utf-8",
    )
    got = _read(path)
    good = [g for g in got if isinstance(g, ParsedItem)]
    bad = [(b.where, b.problem) for b in got if isinstance(b, BadRecord)]
    assert [(s.kind, s.value) for g in good for s in g.signals] == [("pdq", PDQ1), ("md5", MD5)]
    assert good[2].attributes == {"te_signals": [["url", "https://example.com/x"]]}
    assert [w for w, _ in bad] == [6, 7, 8]
    assert "not a pdq hash" in bad[0][1] and "unknown signal type" in bad[1][1]
    assert "no signal type" in bad[2][1]
    bare = _read(path, "te", kind="pdq")
    assert [s.value for g in bare if isinstance(g, ParsedItem) for s in g.signals][-1] == PDQ2


def test_threatexchange_reads_our_signal_file(tmp_path: Path) -> None:
    pytest.importorskip("threatexchange")
    from threatexchange.exchanges.impl.file_api import (
        FileCollaborationConfig,
        LocalFileSignalExchangeAPI,
    )

    path = tmp_path / "export.txt"
    with open(path, "w", encoding="utf-8") as fh:
        formats.write(fh, "te", [_stored([("pdq", PDQ1), ("md5", MD5)])], bank="b")
    api = LocalFileSignalExchangeAPI(FileCollaborationConfig(filename=str(path), name="b"))
    (delta,) = list(api.fetch_iter([], None))
    assert set(delta.updates) == {("pdq", PDQ1), ("video_md5", MD5)}
    # ...and the line its report_opinion appends (f"{get_name()} {signal}"; calling it
    # fails in 1.2.17: it opens the file with mode "wta")
    from threatexchange.signal_type.pdq.signal import PdqSignal

    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{PdqSignal.get_name()} {PDQ2}\n")
    values = [s.value for g in _read(path) if isinstance(g, ParsedItem) for s in g.signals]
    assert values == [PDQ1, MD5, PDQ2]


def test_te_csv_round_trip_and_header(tmp_path: Path) -> None:
    path = tmp_path / "dataset.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        formats.write(fh, "te-csv", [_stored([("pdq", PDQ1)], labels=["a", "b"])], bank="coll")
    assert path.read_text().splitlines()[0] == "signal_type,signal_str,collab,category,tags"
    (item,) = _read(path)
    assert isinstance(item, ParsedItem) and item.labels == ["a", "b"]
    assert item.attributes == {"te_collab": "coll", "te_category": "POSITIVE_CLASS"}
    bad = tmp_path / "bad.csv"
    bad.write_text("signal_type,signal_str\npdq,x\n")
    with pytest.raises(FormatError, match="line 1"):
        _read(bad, "te-csv")


def test_hma_files_match_threatexchanges_serialization(tmp_path: Path) -> None:
    pytest.importorskip("threatexchange")
    from threatexchange.cli.dataset.simple_serialization import HMASerialization

    path = tmp_path / "simple.HASH_PDQ.te"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        formats.write(fh, "hma", [_stored([("pdq", PDQ1)], external_id="77")], bank="b")
    (theirs,) = HMASerialization.load(tmp_path)
    assert (theirs.indicator, theirs.indicator_type, theirs.indicator_id) == (
        PDQ1,
        "HASH_PDQ",
        "77",
    )
    assert theirs.rollup.labels == {"victim-a"}
    # a file threatexchange wrote, read by us
    other = tmp_path / "theirs"
    other.mkdir()
    HMASerialization.store(other, [theirs])
    (item,) = _read(next(other.glob("simple.*.te")))
    assert isinstance(item, ParsedItem) and item.signals[0].value == PDQ1
    assert item.external_id == "77" and item.labels == ["victim-a"]
    unnamed = tmp_path / "hma.csv"
    unnamed.write_text(path.read_text())
    with pytest.raises(FormatError, match="HASH_PDQ"):
        _read(unnamed, "hma")
    assert isinstance(_read(unnamed, "hma", kind="pdq")[0], ParsedItem)


def _stopncii_doc() -> dict:
    return {
        "count": 3,
        "nextPageToken": None,
        "nextSetTimestamp": 1700000100,
        "hasMoreRecords": False,
        "hashRecords": [
            {"lastModtimestamp": 1700000000, "signalType": "ImagePDQ", "hashValue": PDQ1,
             "hashStatus": "Active", "caseNumbers": {"C-1": "Active"}, "CSPFeedbacks": []},
            {"lastModtimestamp": 1700000001, "signalType": "VideoMD5", "hashValue": MD5,
             "hashStatus": "Received", "caseNumbers": {}, "CSPFeedbacks": []},
            {"lastModtimestamp": 1700000002, "signalType": "ImagePDQ", "hashValue": PDQ2,
             "hashStatus": "Withdrawn", "caseNumbers": {"C-2": "Withdrawn"}, "CSPFeedbacks": []},
        ],
    }  # fmt: skip


def test_stopncii_json_withdrawn_and_bad_record_lines(tmp_path: Path) -> None:
    path = tmp_path / "stopncii.json"
    doc = _stopncii_doc()
    doc["hashRecords"].append({"signalType": "ImagePDQ", "hashValue": "nope"})
    path.write_text(json.dumps(doc, indent=2))
    got = _read(path)
    assert formats.detect(path) == "stopncii"
    kinds = [type(g).__name__ for g in got]
    assert kinds == ["ParsedItem", "ParsedItem", "Withdrawn", "BadRecord"]
    first = got[0]
    assert isinstance(first, ParsedItem) and first.external_id == "C-1"
    bad = got[3]
    assert isinstance(bad, BadRecord) and "not a pdq hash" in bad.problem
    line = path.read_text().splitlines()[bad.where - 1]
    assert line.strip() == "{"  # the record starts on the line named
    broken = tmp_path / "broken.json"
    broken.write_text('{"hashRecords": [\n{"signalType": "ImagePDQ",}\n]}')
    with pytest.raises(FormatError, match="line 2"):
        _read(broken)


@pytest.mark.parametrize(
    "field, value",
    [
        ("hashStatus", {"C": "Active"}),  # found by the fuzzer: unhashable, was a TypeError
        ("hashStatus", ["Active"]),
        ("lastModtimestamp", "yesterday"),
        ("lastModtimestamp", 1e300),
        ("lastModtimestamp", -1),
        ("lastModtimestamp", True),
        ("caseNumbers", ["C-1"]),
        ("signalType", {"x": 1}),
    ],
)
def test_stopncii_record_fields_of_the_wrong_type_are_bad_records(
    tmp_path: Path, field: str, value: object
) -> None:
    rec = {"signalType": "ImagePDQ", "hashValue": PDQ1, "hashStatus": "Active", field: value}
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"hashRecords": [rec]}))
    (got,) = _read(path)
    assert type(got) is BadRecord, got


def test_stopncii_export_parses_with_threatexchanges_client_model(tmp_path: Path) -> None:
    pytest.importorskip("threatexchange")
    import enum

    import dacite
    from threatexchange.exchanges.clients.stopncii.api import StopNCIIHashRecord

    items = [
        _stored([("pdq", PDQ1), ("sha256", SHA)], external_id="case-9"),
        _stored([("md5", MD5)]),
    ]
    buf = io.StringIO()
    counts = formats.write(buf, "stopncii", items, bank="b")
    assert counts == {"records": 2, "left_out": 1}  # StopNCII has no SHA-256 type
    body = json.loads(buf.getvalue())
    records = [
        dacite.from_dict(StopNCIIHashRecord, r, config=dacite.Config(cast=[enum.Enum, set]))
        for r in body["hashRecords"]
    ]
    assert [(r.signalType.value, r.hashValue) for r in records] == [
        ("ImagePDQ", PDQ1),
        ("VideoMD5", MD5),
    ]
    assert records[0].caseNumbers == {"case-9": stopncii_status("Active")}


def stopncii_status(value: str) -> object:
    from threatexchange.exchanges.clients.stopncii.api import StopNCIICaseStatus

    return StopNCIICaseStatus(value)


def test_stopncii_csv(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        f"signalType,hashValue,hashStatus,caseNumbers\nImagePDQ,{PDQ1},Active,A;B\n"
        f"VideoMD5,{MD5},Deleted,C\nImagePDQ,{PDQ2},Active,\n"
    )
    assert formats.detect(path) == "stopncii-csv"
    got = _read(path)
    assert [type(g).__name__ for g in got] == ["ParsedItem", "Withdrawn", "ParsedItem"]
    first = got[0]
    assert isinstance(first, ParsedItem)
    assert first.attributes["stopncii"]["caseNumbers"] == {"A": "Active", "B": "Active"}
    assert isinstance(stopncii.Withdrawn(1, "x"), BadRecord)


def _vics(context: str, media: list[dict]) -> dict:
    if context.endswith("#Cases"):
        return {"@odata.context": context, "value": [{"CaseID": "c1", "Media": media}]}
    return {"@odata.context": context, "value": media}


VICS20 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
VICS13 = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"
PHOTODNA = "A" * 192


@pytest.mark.parametrize("model", [VICS20, VICS13])
def test_vics_keeps_photodna_and_sha1_opaque(tmp_path: Path, model: str) -> None:
    media = [
        {"MediaID": 1, "Category": 1, "MD5": MD5.upper(), "SHA1": "C" * 40,
         "AlternativeHashes": [{"HashName": "PhotoDNA", "HashValue": PHOTODNA},
                               {"HashName": "PDQ", "HashValue": PDQ1}],
         "Series": "s", "VictimIdentified": True},
        {"MediaID": 2, "Category": 0, "PhotoDNA": PHOTODNA, "SHA1": "D" * 40},
        {"MediaID": 3, "MD5": "xyz"},
    ]  # fmt: skip
    doc = _vics(model, media)
    if model == VICS13:
        doc = {"odata.metadata": model, "value": media}
    path = tmp_path / "vics.json"
    path.write_text(json.dumps(doc, indent=1))
    assert formats.detect(path) == "vics"
    first, second, third = _read(path)
    assert isinstance(first, ParsedItem) and isinstance(second, ParsedItem)
    assert {(s.kind, s.value) for s in first.signals} == {("md5", MD5), ("pdq", PDQ1)}
    assert first.external_id == "1" and first.attributes["vics"]["SHA1"] == "C" * 40
    assert second.signals == [] and second.attributes["vics"]["PhotoDNA"] == PHOTODNA
    assert isinstance(third, BadRecord) and "MediaID 3" in third.problem
    assert '"MediaID": 3' in path.read_text().splitlines()[third.where]


def test_vics_round_trip_gives_back_the_opaque_fields(tmp_path: Path) -> None:
    original = {"MediaID": 5, "Category": 2, "MD5": MD5.upper(), "SHA1": "E" * 40,
                "AlternativeHashes": [{"HashName": "PhotoDNA", "HashValue": PHOTODNA}],
                "Tags": "x"}  # fmt: skip
    path = tmp_path / "in.json"
    path.write_text(json.dumps(_vics(VICS20, [original])))
    (item,) = _read(path)
    assert isinstance(item, ParsedItem)
    stored = _stored([(s.kind, s.value) for s in item.signals], attributes=item.attributes,
                     external_id=item.external_id)  # fmt: skip
    buf = io.StringIO()
    formats.write(buf, "vics", [stored], bank="b")
    out = json.loads(buf.getvalue())
    assert "ProjectVic/DataModels/2.0.xml" in out["@odata.context"]
    assert out["value"] == [original]


def test_vics_odd_alternative_entries_and_ids_survive_an_export(tmp_path: Path) -> None:
    media = {"MD5": MD5, "AlternativeHashes": ["PhotoDNA?", {"HashName": "PDQ", "HashValue": PDQ1}]}
    path = tmp_path / "in.json"
    path.write_text(json.dumps(_vics(VICS20, [media])))
    (item,) = _read(path)
    assert isinstance(item, ParsedItem)
    stored = _stored([(s.kind, s.value) for s in item.signals], attributes=item.attributes,
                     external_id="9" * 5000)  # fmt: skip
    buf = io.StringIO()
    formats.write(buf, "vics", [stored], bank="b")
    (out,) = json.loads(buf.getvalue())["value"]
    assert out["AlternativeHashes"] == ["PhotoDNA?", {"HashName": "PDQ", "HashValue": PDQ1}]
    assert out["MediaID"] == 1  # a 5,000-digit id is not a VICS MediaID: the running number


def test_unknown_and_unwritable_formats(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text(f"pdq {PDQ1}\n")
    with pytest.raises(FormatError, match="Unknown list format"):
        _read(path, "xml")
    with pytest.raises(FormatError, match="cannot write"):
        formats.write(io.StringIO(), "stopncii-csv", [], bank="b")
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"pdq " + PDQ1.encode() + b"\n\xff\xfe\n")
    with pytest.raises(FormatError, match="UTF-8"):
        _read(latin)
