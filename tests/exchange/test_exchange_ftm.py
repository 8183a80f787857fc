"""Leads as FollowTheMoney entities, checked line by line with ``followthemoney`` itself:
the demo export's rooms, accounts, bots, identifiers, messages, files and network edges;
redaction by default (texts, personal identifiers, file names), victims' identifiers never,
incremental exports with stable ids, and the custody export event."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from followthemoney import model
from sqlalchemy import func, select
from tests.match.conftest import ingest_and_hash

from haechi.analyze.text.runner import run_text_analysis
from haechi.app import App, init_home
from haechi.cases.people import add_victim
from haechi.cases.service import create_case
from haechi.demo import story
from haechi.demo.export_builder import build_demo_export
from haechi.domain import UsageError
from haechi.exchange.ftm import FtmOptions, export_ftm
from haechi.exchange.ftm_entities import WITHHELD
from haechi.store.models import CustodyEvent, Message

VICTIM = story.SORA  # a demo sender whom a case records as a victim
VICTIM_TG = VICTIM.id.removeprefix("user")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    root = tmp_path_factory.mktemp("ftm")
    app = init_home(root / "home")
    ingest_and_hash(app, build_demo_export(root / "export"))
    run_text_analysis(app)
    create_case(app, "demo case", ref="FTM-1")
    add_victim(app, "FTM-1", display_name=VICTIM.name,
               identifiers=[("telegram_id", VICTIM_TG)])  # fmt: skip
    yield app
    app.close()


def _entities(path: Path) -> list[dict]:
    """Every line checked by followthemoney: a concrete schema, known properties, values
    its types accept, required properties present, and a proxy that reads it back."""
    out = []
    for line in path.read_bytes().splitlines():
        data = orjson.loads(line)
        schema = model.get(data["schema"])
        assert schema is not None and not schema.abstract, data
        assert set(data["properties"]) <= set(schema.properties), data
        for prop in schema.required:
            assert data["properties"].get(prop), (prop, data)
        schema.validate(data)  # raises InvalidData on a bad value
        proxy = model.get_proxy(data)
        assert proxy.id == data["id"] and proxy.schema.name == data["schema"]
        out.append(data)
    return out


def test_the_demo_store_as_ftm_entities(store: App, tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    result = export_ftm(store, path)
    entities = _entities(path)
    schemata = Counter(e["schema"] for e in entities)
    assert {"UserAccount", "LegalEntity", "Message", "UnknownLink", "Image"} <= set(schemata)
    with store.db.connect() as conn:
        messages = conn.execute(select(func.count()).select_from(Message)).scalar_one()
    sent_by_victim = result["redacted"].get("messages", 0)
    assert sent_by_victim > 0 and schemata["Message"] == messages - sent_by_victim
    assert result["entities"] == len(entities) and result["by_schema"] == dict(schemata)
    ids = {e["id"] for e in entities}
    for link in (e for e in entities if e["schema"] == "UnknownLink"):
        assert set(link["properties"]["subject"] + link["properties"]["object"]) <= ids
    roles = {r for e in entities if e["schema"] == "UnknownLink" for r in e["properties"]["role"]}
    assert {"posted in", "forward", "shared media"} <= roles
    rooms = {n for e in entities if e["schema"] == "UserAccount" for n in e["properties"].get(
        "name", [])}  # fmt: skip
    assert story.GROUP_A_TITLE in rooms and story.CHANNEL_TITLE in rooms
    bot = story.AD_BOT.lstrip("@")
    assert any(f"@{bot}" in e["properties"].get("username", []) for e in entities)
    files = [e for e in entities if e["schema"] in ("Image", "Video", "Document", "Audio")]
    assert files and all(any(k.startswith("sha256:") for k in f["properties"]["keywords"])
                         for f in files)  # fmt: skip
    assert any(k.startswith("pdq:") for f in files for k in f["properties"]["keywords"])
    assert not any("fileName" in f["properties"] and not f["properties"]["fileName"][0].isalnum()
                   for f in files)  # fmt: skip
    # redacted by default; the victim's name and Telegram id appear nowhere
    bodies = {b for e in entities if e["schema"] == "Message" for b in e["properties"]["bodyText"]}
    assert bodies == {WITHHELD}
    raw = path.read_text(encoding="utf-8")
    assert VICTIM.name not in raw and VICTIM_TG not in raw
    assert not [e for e in entities if "phone" in e["properties"] or "email" in e["properties"]]
    # the export is a custody event citing the file's SHA-256
    assert result["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    with store.db.connect() as conn:
        body = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.subject == f"ftm:{path.name}")
        ).scalar_one()
    assert orjson.loads(body)["data"]["sha256"] == result["sha256"]


def test_texts_on_request_and_incremental_exports(store: App, tmp_path: Path) -> None:
    full = tmp_path / "full.jsonl"
    export_ftm(store, full, FtmOptions(with_text=True))
    entities = _entities(full)
    bodies = [b for e in entities if e["schema"] == "Message" for b in e["properties"]["bodyText"]]
    assert any(story.CAT[:10] in b for b in bodies) and WITHHELD not in bodies
    assert VICTIM.name not in full.read_text(encoding="utf-8")
    with store.db.connect() as conn:
        last = conn.execute(select(func.max(Message.id))).scalar_one()
    part = tmp_path / "part.jsonl"
    result = export_ftm(store, part, FtmOptions(since=f"ftm1.{last - 3}"))
    recent = _entities(part)
    messages = [e for e in recent if e["schema"] == "Message"]
    assert 0 < len(messages) <= 3 and result["cursor"] == f"ftm1.{last}"
    full_ids = {e["id"] for e in entities}
    assert {m["id"] for m in messages} <= full_ids  # the same lead keeps its id
    assert len(recent) < len(entities)
    nothing = tmp_path / "nothing.jsonl"
    assert export_ftm(store, nothing, FtmOptions(since=result["cursor"]))["entities"] == 0
    with pytest.raises(UsageError, match="not an FtM export cursor"):
        export_ftm(store, tmp_path / "x.jsonl", FtmOptions(since="12"))
