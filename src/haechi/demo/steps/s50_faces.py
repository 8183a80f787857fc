"""Consent-based face search on a second, small export (the main one shows no people).

A public-domain NASA portrait is posted in a channel and re-posted, altered, in two groups;
a fictional subject who "consented" is enrolled from a different crop of it, found in every
re-post, and the recurring face becomes a cluster linked to her.
"""

from __future__ import annotations

from datetime import timedelta

from haechi.demo.steps import DemoContext

ORDER = 50
TITLE = "faces"
LABEL = "DEMO-SUBJECT-1"


def run(ctx: DemoContext) -> None:
    try:
        from haechi.analyze.faces import FaceAnalyzer  # noqa: F401 - needs dlib
    except ImportError as exc:
        ctx.out.print(f"[yellow]skipped: the faces extra is not installed ({exc})[/]")
        return
    from haechi.cli.analyze_cmd import run_analysis
    from haechi.cli.face_cmd import hits_text
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.demo.faces_export import build_faces_export, reference_photo
    from haechi.subjects.clusters import link_cluster, list_clusters, update_clusters
    from haechi.subjects.consent import ConsentRequest
    from haechi.subjects.model import today
    from haechi.subjects.search import search_subject
    from haechi.subjects.service import enroll_subject, get_subject

    app = ctx.app
    folder = build_faces_export(ctx.home / "faces-export")
    ingest = run_ingest(app, folder, quiet=True)
    # Every analyzer, not only faces: these files are shown in the web pages too, and a
    # picture no analyzer read has no safe preview (an empty grey box there).
    analysis = run_analysis(app, quiet=True)
    ctx.out.print(
        f"ingested a second benign export ({ingest.messages} messages, "
        f"{ingest.files_captured_new} new files: one NASA portrait re-posted, altered, in "
        f"three chats); analysed {analysis.files} files (faces, hashes, safe previews)"
    )
    subject = get_subject(app, LABEL)
    if subject is None or subject.status != "active":
        subject, _ = enroll_subject(
            app,
            label=LABEL,
            photos=[("reference.png", reference_photo())],
            consent=ConsentRequest(
                given_by="Demo Subject (fictional)",
                scope="search,link",
                given_at=today().isoformat(),
                valid_until=(today() + timedelta(days=365)).isoformat(),
                reference="DEMO-CONSENT-0001",
            ),
            staff="demo.staff",
        )
    ctx.out.print(
        f"enrolled subject {subject.id} ({subject.label}) from a different crop: "
        f"{len(subject.templates)} template, no photo kept (consent scope: search, link)"
    )
    result = search_subject(
        app, subject.id, staff="demo.staff", reason="demo: find every re-post for takedown"
    )
    ctx.out.print(
        f"search {result.search_id} (logged, custody event {result.custody_seq}): "
        f"{len(result.hits)} images across {result.chats} chats within distance "
        f"{result.threshold}"
    )
    text = hits_text(result.hits, 10, "candidates for a person to confirm")
    ctx.out.print(text, highlight=False, markup=False)
    update_clusters(app, staff="demo.staff")
    clusters = list_clusters(app)
    if clusters and clusters[0].subject_id is None:
        link_cluster(
            app, clusters[0].id, subject.id, staff="demo.staff", reason="demo: same person"
        )
        clusters = list_clusters(app)
    for c in clusters[:5]:
        linked = f" - linked to subject {c.subject_label}" if c.subject_label else ""
        ctx.out.print(c.sentence() + linked, highlight=False)
    ctx.facts["faces"] = {"subject_id": subject.id, "hits": len(result.hits)}
    if len(result.hits) < 5:
        ctx.out.print("[red]the face search missed re-posts of the portrait[/]")
        ctx.ok = False
