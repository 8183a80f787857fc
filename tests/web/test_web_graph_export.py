"""The map downloaded from /graph and the API as GEXF, GraphML or Cytoscape JSON, as ``haechi
graph export``: the same ``export_graph``, each download one ``export`` entry of the audit
trail under the person's name with its signed custody event, for investigators
(``export``) only; an unknown format refused in one sentence."""

from __future__ import annotations

import io
import json

import networkx as nx
from fastapi.testclient import TestClient
from tests.web.analyst_kit import app_of, bearer, module_fixture, refused_outside
from tests.web.conftest import log_in
from tests.web.counsellor_kit import custody_events

from haechi.auth import audit
from haechi.auth.roles import Perm

web = module_fixture("graph-export", text=False)


def test_the_download_is_refused_outside_the_matrix(web: TestClient) -> None:
    for path in ("/graph/export", "/api/graph/export?format=graphml"):
        refused_outside(web, Perm.EXPORT, "GET", path)
    assert not custody_events(app_of(web), "export")
    log_in(web, "u_reviewer")
    assert 'id="graph-export"' not in web.get("/graph").text  # the form only where it works


def test_each_format_downloads_and_is_logged_under_the_persons_name(web: TestClient) -> None:
    app = app_of(web)
    log_in(web, "u_investigator")
    assert 'id="graph-export"' in web.get("/graph", headers={"accept-language": "ko"}).text
    got = {}
    for fmt in ("gexf", "graphml", "cytoscape"):
        r = web.get(f"/graph/export?format={fmt}&chats_only=true")
        assert r.status_code == 200, r.text
        assert r.headers["content-disposition"].startswith('attachment; filename="haechi-graph-')
        got[fmt] = r
    g = nx.read_graphml(io.BytesIO(got["graphml"].content))
    assert g.number_of_nodes() >= 2 and all(n.startswith("chat:") for n in g.nodes)
    assert nx.read_gexf(io.BytesIO(got["gexf"].content)).number_of_nodes() == len(g)
    assert "elements" in json.loads(got["cytoscape"].content)
    events = custody_events(app, "export")
    assert [e["data"]["format"] for e in events] == ["gexf", "graphml", "cytoscape"]
    assert {e["actor"] for e in events} == {"u_investigator (web)"}
    entries = audit.entries(app, action=audit.EXPORT)
    assert [e.detail["what"] for e in entries] == ["graph"] * 3
    assert {e.username for e in entries} == {"u_investigator"}
    assert sorted(e.custody_seq for e in entries) == [e["seq"] for e in events]  # one each
    assert got["graphml"].headers["x-content-sha256"] in {e.subject[5:] for e in entries}
    # The API gives the same download; each one is an export of its own, logged again.
    api = web.get("/api/graph/export?format=graphml", headers=bearer(app, "u_investigator"))
    assert api.status_code == 200 and nx.read_graphml(io.BytesIO(api.content)).number_of_nodes()
    assert len(custody_events(app, "export")) == 4


def test_an_unknown_format_is_refused_in_one_sentence(web: TestClient) -> None:
    app = app_of(web)
    count = len(custody_events(app, "export"))
    log_in(web, "u_investigator")
    page = web.get("/graph/export?format=pdf")
    assert page.status_code == 400 and "Unknown graph format" in page.text
    api = web.get("/api/graph/export?format=pdf", headers=bearer(app, "u_investigator"))
    assert api.status_code == 400
    assert (
        api.json()["detail"] == "Unknown graph format 'pdf': use one of gexf, graphml, cytoscape."
    )
    assert len(custody_events(app, "export")) == count
