"""The network map on real stores (SQLite and PostgreSQL): nodes and edges from forwards,
mentions, links, shared media and identifiers, via_bot and successor rooms; centrality,
communities, exports that read back, and the spread of a bot and of a media group."""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx
import pytest
from PIL import Image
from sqlalchemy import inspect, select, text
from tests.helpers import haechi_here as haechi
from tests.text.kit import ME, T0, room, write_export

from haechi.analyze.text.runner import run_text_analysis
from haechi.app import App
from haechi.demo.tdesktop_format import Peer
from haechi.graph.analysis import analyse, chat_projection
from haechi.graph.service import (
    BuildOptions,
    bot_spread,
    build_graph,
    export_graph,
    media_spread,
    neighbourhood,
    successor_rooms,
    summary,
)
from haechi.store.models import Chat, CustodyEvent

HOUR, DAY = 3600, 86400
X = Peer("x1", "user7800000001")
Y = Peer("y2", "user7800000002")
PROMO = Peer("홍보 채널", "channel1700000003")
WALLET = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"


def jpeg(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buf, "JPEG")
    return buf.getvalue()


PIC, OTHER = jpeg((200, 120, 40)), jpeg((10, 90, 200))


def build(tmp: Path) -> Path:
    promo = room("홍보 채널", 1700000003, "public_channel")
    t = T0
    promo.message(
        t, PROMO, ["합성 봇 ", ("mention", "@maker_demo_bot")], media=promo.photo(t, PIC, 32, 24)
    )
    old = room("원본방", 1700000001)
    old.service(t - 10 * DAY, X, "create_group", title="원본방", members=["x1"])
    old.message(
        t + HOUR,
        X,
        ["합성 봇 ", ("mention", "@maker_demo_bot")],
        forwarded_from="홍보 채널",
        media=old.photo(t + HOUR, PIC, 32, 24),
    )
    old.message(t + 2 * HOUR, Y, "입금 " + WALLET)
    old.message(t + 3 * HOUR, Y, "추천 메뉴", via_bot="@menu_demo_bot")
    old.message(t + 5 * DAY, X, ["방 폭파 예정, 대피방으로 ", ("link", "https://t.me/+Evac12345")])
    old.message(t + 5 * DAY + 600, Y, "ㅇㅋ")
    new = room("원본방 대피방", 1700000002)
    new.service(t + 5 * DAY + HOUR, X, "create_group", title="원본방 대피방", members=["x1"])
    new.service(t + 5 * DAY + 2 * HOUR, ME, "join_group_by_link", inviter="x1")
    new.message(t + 6 * DAY, X, "다시 모였네", media=new.photo(t + 6 * DAY, PIC, 32, 24))
    new.message(t + 7 * DAY, Y, ["봇 주소 ", ("link", "https://t.me/maker_demo_bot?start=r1")])
    other = room("다른 방", 1700000004)
    other.message(t + DAY, Y, "같은 주소 " + WALLET, media=other.photo(t + DAY, OTHER, 32, 24))
    lost = room("사라진 방", 1700000005)
    lost.message(t, X, "안녕")
    lost.message(t + 20 * DAY, X, ["새 방: ", ("link", "https://t.me/+Lost987654")])
    return write_export(tmp / "export", [promo, old, new, other, lost])


@pytest.fixture
def store(app: App, tmp_path: Path) -> App:
    from haechi.cli.ingest_cmd import run_ingest

    run_ingest(app, build(tmp_path), quiet=True)
    run_text_analysis(app)
    return app


def chat_node(app: App, title: str) -> str:
    with app.db.connect() as conn:
        cid = conn.execute(select(Chat.id).where(Chat.title == title)).scalar_one()
    return f"chat:{cid}"


def kinds_between(g: nx.MultiDiGraph, u: str, v: str) -> set[str]:
    return set(g.get_edge_data(u, v, default={}))


def test_nodes_and_edges(store: App) -> None:
    g = build_graph(store)
    promo, old, new = (chat_node(store, t) for t in ("홍보 채널", "원본방", "원본방 대피방"))
    other, lost = chat_node(store, "다른 방"), chat_node(store, "사라진 방")
    assert kinds_between(g, old, promo) == {"forward"}
    assert "mention" in kinds_between(g, old, "bot:maker_demo_bot")
    assert "mention" in kinds_between(g, promo, "bot:maker_demo_bot")
    assert kinds_between(g, old, f"btc:{WALLET}") == {"identifier"}
    assert kinds_between(g, other, f"btc:{WALLET}") == {"identifier"}
    assert "via_bot" in kinds_between(g, old, "bot:menu_demo_bot")
    media = [n for n, d in g.nodes(data=True) if d["type"] == "media"]
    assert len(media) == 1 and g.nodes[media[0]]["chats"] == 3  # OTHER is in one room only
    for chat in (promo, old, new):
        assert "shared_media" in kinds_between(g, chat, media[0])
    succ = g.edges[old, new, "successor"]
    assert succ["confidence"] == 0.9 and succ["resolution"] >= 0.6
    assert "joined by link" in succ["reasons"] and "title similarity" in succ["reasons"]
    assert "successor" in kinds_between(g, lost, "invite:+Lost987654")  # unresolved target
    assert g.nodes[old]["risk_level"] != "unscored"
    posted = [(u, v) for u, v, k in g.edges(keys=True) if k == "posted_in"]
    assert posted and all(g.nodes[v]["type"] == "chat" for _, v in posted)
    no_accounts = build_graph(store, BuildOptions(accounts=False))
    assert not [n for n, d in no_accounts.nodes(data=True) if d["type"] == "account"]


def test_analysis_projection_and_neighbourhood(store: App) -> None:
    g = build_graph(store)
    a = analyse(g)
    assert abs(sum(a.pagerank.values()) - 1.0) < 1e-6
    assert set(a.community) == set(g.nodes) and a.betweenness
    old, other = chat_node(store, "원본방"), chat_node(store, "다른 방")
    p = chat_projection(g)
    assert "shared_identifier" in p[old][other]["kinds"]
    assert f"btc:{WALLET}" in p[old][other]["via"]
    sub = neighbourhood(g, "bot:maker_demo_bot", 1)
    assert {chat_node(store, "홍보 채널"), old} <= set(sub.nodes)
    s = summary(g)
    assert s.successors and any(r["node"] == "bot:maker_demo_bot" for r in s.top_bots)


def test_successor_rooms_service(store: App) -> None:
    rows = successor_rooms(store)
    old, new = chat_node(store, "원본방"), chat_node(store, "원본방 대피방")
    best = rows[0]  # resolved links come first
    assert f"chat:{best.source_chat}" == old and best.target == new and best.announced
    assert best.via == "+Evac12345" and best.target_chat is not None and best.late
    unresolved = [r for r in rows if r.target == "invite:+Lost987654"]
    assert unresolved and unresolved[0].target_chat is None and unresolved[0].resolution is None
    assert len(rows) == 2  # the bot link in the new room is not a room move


def test_bot_and_media_spread(store: App) -> None:
    s = bot_spread(store, "@Maker_Demo_Bot")
    order = [c["chat"] for c in s.chats]
    assert order == ["홍보 채널", "원본방", "원본방 대피방"]
    assert s.first_seen == T0 and s.time_to_spread["rooms"] == 3
    assert s.time_to_spread["max_s"] == 7 * DAY and s.time_to_spread["median_s"] == (
        (HOUR + 7 * DAY) / 2
    )
    assert s.timeline[0]["cumulative_rooms"] == 2 and s.timeline[-1]["cumulative_rooms"] == 3
    hows = {h for c in s.chats for h in c["how"]}
    assert {"mention", "link"} <= hows
    import hashlib

    m = media_spread(store, hashlib.sha256(PIC).hexdigest()[:12])
    assert [c["chat"] for c in m.chats] == ["홍보 채널", "원본방", "원본방 대피방"]
    assert {a.how for a in m.appearances} == {"post", "forward"}
    with pytest.raises(Exception, match="No stored media"):
        media_spread(store, "deadbeefdeadbeef")


@pytest.mark.parametrize("fmt", ["gexf", "graphml", "cytoscape"])
def test_exports_read_back_and_are_in_custody(store: App, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"map.{fmt}"
    info = export_graph(store, path, fmt)
    g = build_graph(store)
    if fmt == "gexf":
        back = nx.read_gexf(path)
    elif fmt == "graphml":
        back = nx.read_graphml(path)
    else:
        back = nx.cytoscape_graph(json.loads(path.read_text(encoding="utf-8")))
    assert back.number_of_nodes() == g.number_of_nodes() == info["nodes"]
    assert back.number_of_edges() == g.number_of_edges()
    import hashlib

    with store.db.connect() as conn:
        bodies = [
            json.loads(b)["data"]
            for b in conn.execute(
                select(CustodyEvent.body).where(CustodyEvent.event_type == "export")
            ).scalars()
        ]
    assert any(b["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() for b in bodies)


def test_near_duplicate_groups_join_media(store: App) -> None:
    import hashlib

    with store.db.connect() as conn:
        if not inspect(conn).has_table("match_hits"):
            pytest.skip("the hashing capability's match_hits table is not installed")
    a, b = hashlib.sha256(PIC).hexdigest(), hashlib.sha256(OTHER).hexdigest()
    with store.db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO match_hits (blob_sha256, kind, target, distance, "
                "target_blob_sha256, created_at) VALUES (:a, 'pdq', :t, 12, :b, 'now')"
            ),
            {"a": b, "t": f"blob:{a}", "b": a},
        )
    g = build_graph(store)
    media = [d for _, d in g.nodes(data=True) if d["type"] == "media"]
    assert len(media) == 1 and media[0]["chats"] == 4 and media[0]["files"] == 2
    assert "match" in g.graph["media_groups"]


def test_graph_cli(store: App, tmp_path: Path) -> None:
    """The graph commands through the command line's entry point, in this process (exit
    codes and output as printed; the text scanner the graph asks its version of is built
    once, not in each command's process)."""
    home = store.settings.home
    store.close()
    built = json.loads(haechi("graph", "build", "--json", home=home, check=True).stdout)
    assert built["nodes"] > 5 and built["successors"]
    spread = json.loads(
        haechi("graph", "spread", "@maker_demo_bot", "--json", home=home, check=True).stdout
    )
    assert spread["time_to_spread"]["rooms"] == 3
    succ = json.loads(haechi("graph", "successors", "--json", home=home, check=True).stdout)
    assert succ[0]["via"] == "+Evac12345"
    out = tmp_path / "rooms.json"
    haechi(
        "graph", "export", str(out), "--format", "cytoscape", "--chats-only", home=home, check=True
    )
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {n["data"]["type"] for n in data["elements"]["nodes"]} == {"chat"}
    bad = haechi("graph", "export", str(tmp_path / "x"), "--format", "dot", home=home)
    assert bad.returncode != 0 and "Unknown graph format" in bad.stderr


def test_the_webs_map_is_built_again_only_when_its_inputs_change(
    store: App, tmp_path: Path
) -> None:
    """The web's map data (haechi.graph.current): the same map while nothing changed (it
    took ~6 s a request at 1M messages), a new one once a room arrives or rooms are scored
    again."""
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.graph.current import current_graph

    first = current_graph(store)
    assert current_graph(store) is first
    assert set(first.nodes) == set(build_graph(store).nodes)
    extra = room("새로 온 방", 1700000009)
    extra.message(T0 + 30 * DAY, X, "안녕하세요")
    run_ingest(store, write_export(tmp_path / "more", [extra]), quiet=True)
    second = current_graph(store)
    assert second is not first and chat_node(store, "새로 온 방") in second
    assert chat_node(store, "새로 온 방") not in first
    run_text_analysis(store)  # new room scores: the map is built again
    assert current_graph(store) is not second
