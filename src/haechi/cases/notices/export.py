"""Write a notice as an e-mail (.eml, ready to send from any mail client) or a PDF.

The e-mail is one ``text/plain; charset=utf-8`` part: the drafted text exactly, no
attachment of any kind (a notice identifies content, it never carries it). Every file
written is an ``export`` custody event with the file's SHA-256.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from html import escape
from pathlib import Path

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases.files import write_new
from haechi.cases.model import CaseError
from haechi.cases.notices.views import NoticeView, get_notice
from haechi.cases.rows import get
from haechi.i18n import t_
from haechi.store.tables.cases import Notice

FORMATS = ("eml", "pdf", "txt")


def to_eml(notice: NoticeView) -> bytes:
    msg = EmailMessage(policy=SMTP)
    sender = (notice.notifier or {}).get("email")
    if sender:
        msg["From"] = sender
    if notice.to_address:
        msg["To"] = notice.to_address
    msg["Subject"] = notice.subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid(idstring=f"notice{notice.id}", domain="haechi.invalid")
    msg["X-Haechi-Case"] = notice.case_ref
    msg["X-Haechi-Notice"] = f"N{notice.id}"
    msg["X-Haechi-Body-SHA256"] = notice.body_sha256
    msg["X-Unsent"] = "1"  # mail clients open it as a draft to send
    msg.set_content(notice.body, subtype="plain", charset="utf-8", cte="quoted-printable")
    return msg.as_bytes()


def to_html(notice: NoticeView) -> str:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>'
        '@page { size: A4; margin: 18mm; } body { font-family: "Noto Sans CJK KR", '
        '"Noto Sans", sans-serif; font-size: 10pt; } pre { white-space: pre-wrap; '
        "font-family: inherit; } .meta { color: #444; font-size: 8.5pt; }</style></head><body>"
        f'<p class="meta">To: {escape(notice.to_address or "(the recipient’s own channel)")}'
        f"<br>Subject: {escape(notice.subject)}<br>Notice N{notice.id} · case "
        f"{escape(notice.case_ref)} · SHA-256 of the text {escape(notice.body_sha256)}</p>"
        f"<pre>{escape(notice.body)}</pre></body></html>"
    )


def render(notice: NoticeView, fmt: str) -> bytes:
    if fmt == "eml":
        return to_eml(notice)
    if fmt == "txt":
        return notice.body.encode()
    if fmt == "pdf":
        from haechi.report.html import to_pdf

        return to_pdf(to_html(notice))
    raise CaseError(
        t_("A notice is written as {formats}, not {fmt!r}.", formats=", ".join(FORMATS), fmt=fmt)
    )


def export_notice(app: App, notice_id: int, dest: Path, fmt: str | None = None) -> str:
    """Write the notice to ``dest`` (never overwriting); returns the file's SHA-256."""
    kind = (fmt or dest.suffix.lstrip(".")).lower()
    notice = get_notice(app, notice_id)
    digest = write_new(dest, render(notice, kind))
    with app.db.begin() as conn:
        row = get(conn, Notice, notice_id)
        assert row is not None
        ev.record(
            app,
            conn,
            row.case_id,
            ev.EXPORT,
            {
                "kind": f"notice_{kind}",
                "notice_id": notice_id,
                "sha256": digest,
                "name": dest.name,
                "body_sha256": notice.body_sha256,
            },
        )
    return digest
