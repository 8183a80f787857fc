"""The synthetic-media detector's heat map on the media page, as ``haechi preview
--heatmap`` writes it: for the roles that read the archive, the score per tile at the safe
preview's size (no picture content), refused to anonymous visitors and auditors, and a file
without one answered with one sentence."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import add_staff

from haechi.auth.roles import MATRIX, Perm, Role
from haechi.web.settings import WebSettings


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """The benign provenance demo ingested and analysed (safe previews, provenance and the
    synthetic detectors) in one SQLite data directory; the SHA-256 of a scored picture."""
    from haechi.analyze.registry import build
    from haechi.app import init_home
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.demo.provenance_export import build_provenance_export
    from haechi.run.analyze import AnalysisRunner

    tmp = tmp_path_factory.mktemp("heatmap")
    app = init_home(tmp / "home")
    try:
        export = build_provenance_export(tmp / "export")
        run_ingest(app, export, quiet=True)
        analyzers, _ = build({}, only=["nudity", "provenance", "synthetic"])
        assert AnalysisRunner(app, analyzers, workers=1).run().errors == {}
        sha = hashlib.sha256((export / "files" / "coffee_sd.png").read_bytes()).hexdigest()
        for role in Role:
            add_staff(app, f"u_{role.value}", role.value)
        with client_of(app, WebSettings(run_jobs=False)) as client:
            yield client, sha
    finally:
        app.close()


def test_the_heat_map_for_the_roles_that_read_the_archive(scored: tuple[TestClient, str]) -> None:
    web, sha = scored
    for role in MATRIX[Perm.ARCHIVE_READ]:
        csrf = log_in(web, f"u_{role.value}")
        page = web.get("/media").text
        assert f'src="/media/{sha}/heatmap"' in page, role
        got = web.get(f"/media/{sha}/heatmap")
        assert got.status_code == 200 and got.headers["content-type"] == "image/png", role
        web.post("/logout", data={"csrf_token": csrf})
    log_in(web, "u_investigator")
    heat = Image.open(io.BytesIO(got.content))
    preview = Image.open(io.BytesIO(web.get(f"/media/{sha}/preview").content))
    assert heat.mode == "RGBA" and max(heat.size) <= max(preview.size)  # small, no picture
    korean = web.get("/media", headers={"accept-language": "ko"}).text
    assert "탐지기 히트맵" in korean


def test_refused_to_anonymous_visitors_and_roles_outside_the_matrix(
    scored: tuple[TestClient, str],
) -> None:
    web, sha = scored
    web.cookies.clear()
    anonymous = web.get(f"/media/{sha}/heatmap")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    for role in set(Role) - MATRIX[Perm.ARCHIVE_READ]:
        csrf = log_in(web, f"u_{role.value}")
        assert web.get(f"/media/{sha}/heatmap").status_code == 403, role
        web.post("/logout", data={"csrf_token": csrf})


def test_a_file_without_a_heat_map_is_answered_in_one_sentence(
    scored: tuple[TestClient, str],
) -> None:
    web, _sha = scored
    log_in(web, "u_reviewer")
    none = web.get(f"/media/{'0' * 64}/heatmap")
    assert none.status_code == 404 and "has no heat map; run" in none.text
    bad = web.get("/media/not-a-file/heatmap", headers={"accept-language": "ko"})
    assert bad.status_code == 404 and "그런 파일이 없습니다" in bad.text
