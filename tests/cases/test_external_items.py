"""Matches and graph findings join a case only when they name something real: a match is a
row of ``match_hits``; a finding is a node of the network map the store can show, or free
text typed ``note:``. Anything else is refused with one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.cases.casedata import CHANNEL, demo_case
from tests.helpers import haechi, haechi_here

from haechi.analyze.text.runner import run_text_analysis
from haechi.app import App
from haechi.cases.detail import case_detail
from haechi.cases.items import add_external
from haechi.cases.model import CaseError, ItemKind
from haechi.store.models import Blob, Chat
from haechi.store.tables.match import MatchRow


def _one_sentence(exc: pytest.ExceptionInfo[CaseError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and text.endswith((".", "?")), text
    return text


def test_a_match_must_exist(sqlite_store: App) -> None:
    from haechi.cli.analyze_cmd import run_analysis

    app = sqlite_store
    ref = demo_case(app)
    with pytest.raises(CaseError) as none_yet:
        add_external(app, ref, ItemKind.MATCH, "1")
    assert _one_sentence(none_yet) == (
        "There is no match 1: give a number that `haechi match` lists."
    )
    assert run_analysis(app, only=["pdq"], quiet=True).as_dict()["ok"] > 0  # real matches
    with app.db.connect() as conn:
        match = conn.execute(select(MatchRow).order_by(MatchRow.id)).first()
        other = conn.execute(
            select(Blob.sha256).where(
                Blob.sha256.not_in([match.blob_sha256, match.target_blob_sha256])
            )
        ).scalar()
    assert match is not None and other is not None
    with pytest.raises(CaseError) as wrong_file:
        add_external(app, ref, ItemKind.MATCH, str(match.id), blob_sha256=other)
    assert f"is not one of match {match.id}'s files" in _one_sentence(wrong_file)
    with pytest.raises(CaseError) as not_a_number:
        add_external(app, ref, ItemKind.MATCH, "pdq-near-cat")
    assert "named by the number" in _one_sentence(not_a_number)
    with pytest.raises(CaseError, match="There is no match 999999"):
        add_external(app, ref, ItemKind.MATCH, "#999999")
    added = add_external(app, ref, ItemKind.MATCH, f"match:{match.id}")
    item = next(i for i in case_detail(app, ref).items if i.id == added.id)
    assert item.ref == f"match:{match.id}" and item.external_ref == str(match.id)
    assert item.blob_sha256 == match.blob_sha256  # the matched file, taken from the match
    target = add_external(
        app, ref, ItemKind.MATCH, str(match.id), blob_sha256=match.target_blob_sha256.upper()
    )
    assert target.id == added.id and not target.created  # the same match, once


def test_a_finding_names_a_node_of_the_map_or_is_a_note(store: App) -> None:
    run_text_analysis(store)  # the identifiers the network map is built from
    ref = demo_case(store)
    with store.db.connect() as conn:
        chat_id = conn.execute(select(Chat.id).where(Chat.key == CHANNEL)).scalar_one()
    real = [
        f"chat:{chat_id}",
        "bot:facemix_demo_bot",  # advertised in the demo's group
        "invite:+Q29mZmVlVGFsazI",  # the backup room's invite link
        "tg:coffee_talk_demo",
        "url:https://example.com/sale",
        "note:the group moved to a backup room after the channel was reported",
    ]
    for finding in real:
        assert add_external(store, ref, ItemKind.FINDING, finding).created, finding
    refused = {
        "chat:99999": "Nothing in the store is chat:99999",
        "bot:nobody_demo_bot": "Nothing in the store is bot:nobody_demo_bot",
        "btc:1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa": "Nothing in the store is btc:",
        "invite:+NotInTheEvidence": "Nothing in the store is invite:",
        "tg:coffee_talk_dem_": "Nothing in the store is tg:",  # "_" is no wildcard
        "successor room of the channel": "A graph finding is chat:<id>",
        "colour:red": "'colour:red' is none of them",
        "note:   ": "is none of them",
    }
    for finding, needle in refused.items():
        with pytest.raises(CaseError) as exc:
            add_external(store, ref, ItemKind.FINDING, finding)
        assert needle in _one_sentence(exc), finding
    refs = {i.ref for i in case_detail(store, ref).items if i.kind == "finding"}
    assert refs == {f"finding:{f}" for f in real}


def test_cli_refuses_an_unknown_match_or_finding(tmp_path: Path, demo_export: Path) -> None:
    home = tmp_path / "home"
    haechi_here("init", str(home), home=home, check=True)  # set-up: in this process
    haechi_here("ingest", str(demo_export), "--no-analyze", home=home, check=True)
    made = haechi("case", "create", "Bot channel", "--ref", "C-1", "--json", home=home)
    assert json.loads(made.stdout)["ref"] == "C-1"
    bad_match = haechi("case", "add-match", "C-1", "42", home=home)
    assert bad_match.returncode == 2 and "Traceback" not in bad_match.stderr
    assert bad_match.stderr.strip().endswith(
        "There is no match 42: give a number that `haechi match` lists."
    )
    bad_finding = haechi("case", "add-finding", "C-1", "a successor room", home=home)
    assert bad_finding.returncode == 2 and len(bad_finding.stderr.strip().splitlines()) == 1
    assert "is none of them" in bad_finding.stderr
    ok = haechi("case", "add-finding", "C-1", "note:successor room", home=home)
    assert ok.returncode == 0, ok.stderr
