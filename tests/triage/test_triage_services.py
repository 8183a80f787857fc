"""Triage end to end: the provenance demo export ingested, analysed by the real runner,
then the queue, verdicts and safe previews read back — on SQLite and PostgreSQL, and
through the real `haechi` command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from tests.helpers import haechi, haechi_here

from haechi.app import App
from haechi.demo.provenance_export import FILES, build_provenance_export
from haechi.domain import UsageError


def _ingest_and_analyze(app: App, tmp_path: Path) -> dict[str, str]:
    from haechi.analyze.registry import build
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.run.analyze import AnalysisRunner

    export = build_provenance_export(tmp_path / "export")
    run_ingest(app, export, quiet=True)
    analyzers, _ = build({}, only=["nudity", "provenance", "synthetic"])
    report = AnalysisRunner(app, analyzers, workers=2).run()
    assert report.errors == {}, report.error_samples
    import hashlib

    return {
        name: hashlib.sha256((export / "files" / name).read_bytes()).hexdigest() for name in FILES
    }


def test_queue_verdicts_and_previews(app: App, tmp_path: Path) -> None:
    from haechi.triage.previews import heatmap, safe_preview
    from haechi.triage.queue import review_queue
    from haechi.triage.resolve import resolve_file
    from haechi.triage.verdicts import file_verdict

    shas = _ingest_and_analyze(app, tmp_path)
    queue = review_queue(app)
    assert {i.sha256 for i in queue} == set(shas.values())
    assert all(i.score is not None and i.has_preview for i in queue)
    assert [i.score for i in queue] == sorted((i.score for i in queue), reverse=True)

    signed = file_verdict(app, shas["rocket_render.jpg"])
    assert (signed.verdict.label, signed.verdict.strength) == ("synthetic", "strong")
    assert "trainedAlgorithmicMedia" in signed.verdict.explanation_en
    assert "c2pa.created" in signed.verdict.explanation_ko
    a1111 = file_verdict(app, shas["coffee_sd.png"])
    assert (a1111.verdict.label, a1111.verdict.strength) == ("synthetic", "moderate")
    assert "1234567890" in a1111.verdict.explanation_en
    plain = file_verdict(app, shas["chelsea_photo.jpg"])
    # The baseline's false-positive rate on unseen real photos is far above 1 %: whatever
    # it scores, a plain photo never gets a detector headline.
    assert plain.verdict.label == "no_evidence"
    assert "suggests" not in plain.verdict.label_en
    assert plain.analyzed_by == {"provenance": "ok", "synthetic": "ok"}

    preview = safe_preview(app, shas["chelsea_photo.jpg"])
    assert preview is not None and preview.mime == "image/jpeg"
    im = Image.open(io.BytesIO(preview.data))
    assert im.mode == "L" and max(im.size) <= 320
    assert heatmap(app, shas["coffee_sd.png"]) is not None

    assert resolve_file(app, shas["coffee_sd.png"][:12]) == shas["coffee_sd.png"]
    with pytest.raises(UsageError, match="No stored file"):
        resolve_file(app, "0" * 12)
    with pytest.raises(UsageError, match="neither a file"):
        resolve_file(app, "not-a-sha")


def test_cli_queue_verdict_preview(tmp_path: Path) -> None:
    home = tmp_path / "home"
    haechi_here("init", str(home), check=True)  # set-up: in this process
    export = build_provenance_export(tmp_path / "export")
    haechi_here("ingest", str(export), home=home, check=True)  # analyses run after ingest
    queue = json.loads(haechi("queue", "--json", home=home, check=True).stdout)
    assert len(queue) == 3
    signed = export / "files" / "rocket_render.jpg"
    proc = haechi("verdict", str(signed), home=home, check=True)
    assert "synthetic (AI-generated)" in proc.stdout and "합성(AI 생성)" in proc.stdout
    data = json.loads(haechi("verdict", str(signed), "--json", home=home, check=True).stdout)
    assert data["label"] == "synthetic" and data["evidence"][0]["source"] == "c2pa"
    out = tmp_path / "p.jpg"
    haechi("preview", queue[0]["sha256"], "--out", str(out), home=home, check=True)
    assert Image.open(out).mode == "L"
    bad = haechi("verdict", "zzz", home=home)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
