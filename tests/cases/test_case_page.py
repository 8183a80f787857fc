"""What a case's page reads: one page of items (a case may hold thousands), the total, the
victims redacted, and the items a notice left out."""

from __future__ import annotations

from pathlib import Path

from haechi.app import App
from haechi.cases import items, people
from haechi.cases.notices.service import draft_notice
from haechi.cases.page import case_page, left_out
from haechi.cases.service import create_case


def test_one_page_of_items_and_what_a_notice_left_out(app: App, tmp_path: Path) -> None:
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.demo.faces_export import build_faces_export

    run_ingest(app, build_faces_export(tmp_path / "export"), quiet=True)
    case = create_case(app, "Paging", ref="PAGE-1")
    added = items.add_chat_files(app, case.ref, "channel:2087650001")  # three posts
    items.add_chat(app, case.ref, "channel:2087650001")
    label = people.add_victim(app, case.ref, display_name="박하늘", age=30)
    people.record_consent(app, case.ref, label, "takedown")
    page = case_page(app, case.ref, offset=1, limit=2)
    assert page.items_total == 4 and page.offset == 1
    assert [i.id for i in page.detail.items] == [added[1].id, added[2].id]
    assert page.detail.victims[0].display_name is None  # redacted
    notice = draft_notice(app, case.ref, "telegram", "en", item_ids=[added[0].id]).notice
    assert [i.id for i in left_out(app, case.id, notice.id)] == [added[1].id, added[2].id, 4]
