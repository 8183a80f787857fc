"""The case report: escaped, redacted, safe previews only, Korean fonts in the PDF; and the
CASE/UCO export checked by case-utils' own SHACL validator."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import insert, select
from tests.cases.casedata import demo_case
from tests.report.pdftools import font_names

from haechi.app import App
from haechi.cases import service
from haechi.cases.detail import case_detail
from haechi.report.exports import write_caseuco, write_report
from haechi.run.verify import verify
from haechi.store.models import Analysis, ArtifactRow, CustodyEvent
from haechi.store.vault import Vault


def _safe_preview(app: App, sha: str) -> bytes:
    """A stand-in for the triage capability's preview: a small grey JPEG in the derived store."""
    buf = io.BytesIO()
    Image.new("L", (32, 24), 128).save(buf, "JPEG")
    data = buf.getvalue()
    derived = Vault(app.settings.derived_dir)
    stored = derived.put_bytes(data)
    with app.db.begin() as conn:
        aid = conn.execute(
            insert(Analysis)
            .values(blob_sha256=sha, analyzer="nudity", version="test", status="ok", created_at="t")
            .returning(Analysis.id)
        ).scalar_one()
        conn.execute(
            insert(ArtifactRow).values(
                analysis_id=aid,
                blob_sha256=sha,
                name="safe_preview",
                sha256=stored.sha256,
                mime="image/jpeg",
                size=len(data),
            )
        )
    return data


def test_html_report(sqlite_store: App, tmp_path: Path) -> None:
    app = sqlite_store
    ref = demo_case(app, name="Chelsea")
    service.update_case(app, ref, title='<script>alert("x")</script> room')
    photos = [i for i in case_detail(app, ref).items if i.blob_sha256]
    write_report(app, ref, tmp_path / "never.html")
    assert "검증한 적 없음: `haechi verify` 실행 필요 · never verified: run `haechi verify`" in (
        (tmp_path / "never.html").read_text()
    )
    assert verify(app).ok
    preview = _safe_preview(app, photos[0].blob_sha256 or "")  # (an analysis without its event)
    write_report(app, ref, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert "온전함 · intact: " in page and "last verified by `haechi verify`" in page
    write_report(app, ref, tmp_path / "now.html", verify_chain=True)
    assert "지금 검증함 · verified now" in (tmp_path / "now.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert f"data:image/jpeg;base64,{base64.b64encode(preview).decode()}" in page
    for item in photos:  # the originals never appear, only hashes
        original = app.vault.read_bytes(item.blob_sha256 or "")
        assert base64.b64encode(original[:300]).decode()[:200] not in page
        assert item.blob_sha256 in page
    assert "안전 미리보기 없음 · no safe preview" in page  # the other photo has none
    assert (
        "UTC" in page
        and "KST" in page
        and "해시와 서명이 유효함 · hashes and signatures valid" in page
    )
    assert "Chelsea" not in page and "[V1]" in page
    with app.db.connect() as conn:
        last = conn.execute(
            select(CustodyEvent.body).order_by(CustodyEvent.seq.desc()).limit(1)
        ).scalar_one()
    assert json.loads(last)["data"]["kind"] == "report_html"


def test_pdf_report_has_korean_fonts(sqlite_store: App, tmp_path: Path) -> None:
    from PIL import ImageFile

    ref = demo_case(sqlite_store)
    write_report(sqlite_store, ref, tmp_path / "r.pdf")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # WeasyPrint's import switch undone
    data = (tmp_path / "r.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    assert any("CJK-KR" in name for name in font_names(data)), font_names(data)


CASE_VALIDATE = shutil.which("case_validate") or str(Path(sys.executable).parent / "case_validate")


@pytest.mark.skipif(
    not Path(CASE_VALIDATE).exists(), reason="case-utils (the cases extra) is not installed"
)
def test_caseuco_conforms_to_the_shapes(store: App, tmp_path: Path) -> None:
    ref = demo_case(store)
    write_caseuco(store, ref, tmp_path / "case.jsonld")
    proc = subprocess.run(
        [CASE_VALIDATE, str(tmp_path / "case.jsonld")], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "Conforms: True" in proc.stdout, proc.stdout + proc.stderr
    doc = json.loads((tmp_path / "case.jsonld").read_text())
    types = [n["@type"] for n in doc["@graph"]]
    assert types.count("uco-observable:File") == 2 and types.count("uco-types:Hash") == 4
    assert (
        "case-investigation:InvestigativeAction" in types
        and "case-investigation:ProvenanceRecord" in types
    )
    # the validator is a real oracle: a size given as text does not conform
    for node in doc["@graph"]:
        if node["@type"] == "uco-observable:FileFacet":
            node["uco-observable:sizeInBytes"] = "many"
    (tmp_path / "bad.jsonld").write_text(json.dumps(doc))
    bad = subprocess.run(
        [CASE_VALIDATE, str(tmp_path / "bad.jsonld")], capture_output=True, text=True
    )
    assert bad.returncode == 1 and "Conforms: False" in bad.stdout
