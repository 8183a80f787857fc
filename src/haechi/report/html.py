"""The case report as one self-contained HTML page (and, through WeasyPrint, a PDF).

What it shows: the case, every item with its link, ids, hashes and capture times in UTC
and KST, the people (victims by label unless the user reveals them), the notices and how
long removal took, the custody events that concern the case and a summary of the whole
chain. Pictures appear only as *safe previews* (the ``safe_preview`` artefacts the triage
capability makes: small, greyscale, flagged regions blocked out); originals never do.
Every string from data is HTML-escaped.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from html import escape

from sqlalchemy import select

from haechi import __version__
from haechi.app import App
from haechi.cases.timefmt import kst, utc
from haechi.domain.display import visible
from haechi.i18n import t_
from haechi.report import labels as L
from haechi.report.chain import ChainSummary
from haechi.report.gather import Evidence
from haechi.report.redact import Redactor
from haechi.store.custody import StoredEvent
from haechi.store.models import ArtifactRow
from haechi.store.vault import Vault

PREVIEW_MIMES = {"image/jpeg", "image/png", "image/webp"}
MAX_PREVIEW_BYTES = 512 * 1024
TEXT_EXCERPT = 400

CSS = """
@page { size: A4; margin: 16mm 14mm; @bottom-right { content: counter(page) " / " counter(pages);
  font-size: 8pt; } }
body { font-family: "Noto Sans CJK KR", "Noto Sans KR", "Noto Sans", sans-serif; font-size: 9pt;
  color: #111; }
h1 { font-size: 15pt; margin: 0 0 4pt; } h2 { font-size: 11.5pt; margin: 14pt 0 4pt;
  border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0; }
th, td { border: 1px solid #bbb; padding: 2pt 4pt; vertical-align: top; text-align: left;
  unicode-bidi: isolate; }
th { background: #eee; } .mono { font-family: "Noto Sans Mono CJK KR", monospace; font-size: 7.5pt;
  word-break: break-all; }
.note { color: #444; font-size: 8pt; } .warn { color: #a00; } img.preview { max-width: 120px;
  max-height: 120px; }
"""


@dataclass(frozen=True)
class ReportOptions:
    reveal_victims: bool = False
    previews: bool = True


def _t(value: object) -> str:
    """Data in the report: invisible and reordering characters shown (``⟨RLO⟩``), then
    escaped; a name or title in a cell stays in its own bidi island (``bdi`` in the CSS)."""
    return escape(visible("" if value is None else str(value)))


def _when(value: int | str | None) -> str:
    if value is None:
        return ""
    return f"{_t(utc(value))}<br>{_t(kst(value))}"


def _previews(app: App, shas: list[str]) -> dict[str, str]:
    """data: URIs of safe previews, by file SHA-256 (newest artefact wins)."""
    if not shas:
        return {}
    derived = Vault(app.settings.derived_dir, key=app.vault.key, encrypt=app.vault.encrypted)
    out: dict[str, str] = {}
    with app.db.connect() as conn:
        rows = conn.execute(
            select(ArtifactRow.blob_sha256, ArtifactRow.sha256, ArtifactRow.mime, ArtifactRow.size)
            .where(ArtifactRow.name == "safe_preview", ArtifactRow.blob_sha256.in_(shas))
            .order_by(ArtifactRow.id)
        ).all()
    for blob, art, mime, size in rows:
        if mime not in PREVIEW_MIMES or size > MAX_PREVIEW_BYTES:
            continue
        try:
            data = derived.read_bytes(art)
        except Exception:  # noqa: S112 - a missing preview is shown as missing, never fatal
            continue
        out[blob] = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return out


def _th(*labels: str, cls: str = "") -> str:
    """Header cells, one per label (escaped like data)."""
    attr = f' class="{cls}"' if cls else ""
    return "".join(f"<th{attr}>{_t(label)}</th>" for label in labels)


def render(
    app: App,
    ev: Evidence,
    events: list[StoredEvent],
    chain: ChainSummary,
    *,
    options: ReportOptions,
    generated_at: str,
) -> str:
    d = ev.detail
    redact = Redactor(ev.secrets, enabled=not options.reveal_victims)
    previews = _previews(app, [f.sha256 for f in ev.files]) if options.previews else {}
    out: list[str] = [
        '<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8">',
        f"<title>{_t(d.ref)} — {_t(L.TITLE)} · haechi</title><style>{CSS}</style></head><body>",
        f"<h1>{_t(L.TITLE)} {_t(d.ref)}</h1>",
        f"<p>{_t(redact(d.summary.title))}</p>",
        "<table>",
        f"<tr>{_th(L.STATUS)}<td>{_t(L.enum('case_status', d.summary.status))}</td>"
        f"{_th(L.REPORTED_ON)}<td>{_t(d.summary.reported_on)}</td></tr>",
        f"<tr>{_th(L.OPENED)}<td>{_when(d.summary.opened_at)}</td>{_th(L.ASSIGNEE)}"
        f"<td>{_t(d.summary.assignee)}</td></tr>",
        f"<tr>{_th(L.GENERATED)}<td>{_when(generated_at)}</td>{_th(L.BY)}"
        f"<td>{_t(app.settings.operator)} · haechi {_t(__version__)}</td></tr>",
        f'<tr>{_th(L.VICTIM_IDS)}<td colspan="3">'
        f"{_t(L.SHOWN if options.reveal_victims else L.REDACTED)}</td></tr></table>",
    ]
    out += _chain_section(chain)
    out += _items_section(ev, redact, previews)
    out += _files_section(ev, redact)
    out += _people_section(ev, options.reveal_victims)
    out += _notices_section(ev)
    out += _events_section(events)
    ko, en = L.PREVIEWS_NOTE
    out.append(f'<p class="note">{_t(ko)}<br>{_t(en)}</p>')
    out.append("</body></html>")
    return "\n".join(out)


def _chain_section(chain: ChainSummary) -> list[str]:
    out = [f"<h2>{_t(L.CHAIN)}</h2><table>"]
    bad = chain.case_events_bad
    keys = ", ".join(chain.key_ids)
    out.append(
        f"<tr>{_th(L.CASE_EVENTS)}<td>{chain.case_events:,} · {_t(L.CHECKED_NOW)}"
        f": {_t(L.chain_state(len(bad)))} ({_t(L.SIGNING_KEY)} {_t(keys)})"
        "</td></tr>"
    )
    out.append(
        f"<tr>{_th(L.LOG_HEAD)}<td>{_t(L.EVENT)} {chain.head_seq} "
        f'<span class="mono">{_t(chain.head_hash)}</span></td></tr>'
    )
    if chain.whole_ok is None:
        whole = L.never_verified()
    else:
        when = (
            L.verified_now()
            if chain.whole_checked_now
            else L.last_verified(utc(chain.last_verified_at), chain.last_verified_seq)
        )
        whole = L.whole_log(chain.whole_ok, chain.whole_events, when)
    out.append(f"<tr>{_th(L.WHOLE_LOG)}<td>{_t(whole)}</td></tr>")
    for problem in [*bad, *chain.whole_problems][:20]:
        out.append(f"<tr>{_th(L.PROBLEM, cls='warn')}<td>{_t(problem)}</td></tr>")
    out.append("</table>")
    return out


def _items_section(ev: Evidence, redact: Redactor, previews: dict[str, str]) -> list[str]:
    head = _th("#", L.KIND, L.LINK_IDS, L.POSTED, L.FILE, L.PREVIEW)
    out = [f"<h2>{_t(L.ITEMS)}</h2><table><tr>{head}</tr>"]
    for item in ev.detail.items:
        ids = [f'<div class="mono">{_t(item.url or L.NO_LINK)}</div>']
        if item.chat_tg_id is not None:
            kind = L.enum("chat", item.chat_peer_kind)
            ids.append(f"{_t(L.CHAT)}: {_t(kind)} {_t(item.chat_tg_id)}")
        if item.message_id is not None:
            ids.append(f"{_t(L.MESSAGE)} {_t(item.message_id)}")
        if item.sender:
            ids.append(f"{_t(L.SENDER)}: {_t(redact(item.sender))}")
        if item.text:
            excerpt = redact(item.text)[:TEXT_EXCERPT]
            ids.append(f'<div class="note">{_t(excerpt)}</div>')
        file_cell = ""
        if item.blob_sha256:
            file_cell = (
                f'<div class="mono">SHA-256 {_t(item.blob_sha256)}<br>MD5 {_t(item.blob_md5)}'
                f"</div>{_t(item.blob_size)} {_t(L.BYTES)}, {_t(item.blob_mime)}"
            )
        preview = previews.get(item.blob_sha256 or "")
        if preview:
            shown = f'<img class="preview" alt="{_t(L.PREVIEW)}" src="{preview}">'
        else:
            shown = f'<span class="note">{_t(L.NO_PREVIEW)}</span>' if item.blob_sha256 else ""
        state = f" ({_t(L.WITHDRAWN)})" if item.withdrawn else ""
        again = f"<br>{_t(L.reupload_of(item.reupload_of))}" if item.reupload_of else ""
        out.append(
            f"<tr><td>{item.id}</td><td>{_t(L.enum('item_kind', item.kind))}{state}{again}</td>"
            f"<td>{'<br>'.join(ids)}</td><td>{_when(item.date_unix)}</td><td>{file_cell}</td>"
            f"<td>{shown}</td></tr>"
        )
    out.append("</table>")
    return out


def _files_section(ev: Evidence, redact: Redactor) -> list[str]:
    head = _th(L.FILE_SHA, L.CAPTURED, L.FROM, L.BY_TOOL, L.CUSTODY_EVENT)
    out = [f"<h2>{_t(L.CAPTURES)}</h2><table><tr>{head}</tr>"]
    for f in ev.files:
        for cap in f.captures:
            out.append(
                f'<tr><td class="mono">{_t(f.sha256)}</td><td>{_when(cap.captured_at)}</td>'
                f"<td>{_t(L.SOURCE)} {cap.source_id} ({_t(L.enum('source_kind', cap.source_kind))})"
                f': <span class="mono">{_t(redact(cap.path))}</span></td>'
                f"<td>{_t(cap.operator)}@{_t(cap.host)} · {_t(cap.collector)} "
                f"{_t(cap.collector_version)}</td><td>{_t(cap.event_seq)}</td></tr>"
            )
    out.append("</table>")
    return out


def _people_section(ev: Evidence, reveal: bool) -> list[str]:
    d = ev.detail
    out = [f"<h2>{_t(L.VICTIMS)}</h2>"]
    if not d.victims:
        out.append(f"<p>{_t(L.NO_VICTIM)}</p>")
    else:
        head = _th(L.LABEL, L.AGE_BAND, L.MINOR, L.CONSENTS) + (_th(L.IDENTITY) if reveal else "")
        out.append(f"<table><tr>{head}</tr>")
        for v in d.victims:
            consents = "; ".join(
                f"{L.enum('scope', c.scope)} ({L.enum('given_by', c.given_by)}, {c.granted_at}"
                f"{', ' + L.CONSENT_WITHDRAWN if not c.active else ''})"
                for c in v.consents
            )
            identity = ""
            if reveal:
                parts = [p for p in (v.display_name, v.contact) if p]
                parts += [f"{L.enum('identifier', i['kind'])}: {i['value']}" for i in v.identifiers]
                identity = f"<td>{_t('; '.join(parts))}</td>"
            flag = L.YES if v.is_minor else L.NO
            warn = "" if v.consents else ' class="warn"'
            out.append(
                f"<tr><td>{_t(v.label)}</td><td>{_t(L.enum('age_band', v.age_band))}</td>"
                f"<td>{_t(flag)}</td><td{warn}>{_t(consents or L.NO_CONSENT)}</td>{identity}</tr>"
            )
        out.append("</table>")
    out.append(f"<h2>{_t(L.SUSPECTS)}</h2>")
    if not d.suspects:
        out.append(f"<p>{_t(L.NO_SUSPECT)}</p>")
        return out
    head = _th(L.LABEL, L.IDENTIFIERS, L.AGE_BAND, L.STATUS, L.APPREHENDED, L.DETAINED)
    out.append(f"<table><tr>{head}</tr>")
    for s in d.suspects:
        idents = "<br>".join(f"{_t(L.enum('identifier', k))}: {_t(v)}" for k, v in s.identifiers)
        out.append(
            f"<tr><td>{_t(s.label)}</td><td>{idents}</td>"
            f"<td>{_t(L.enum('age_band', s.age_band))}</td>"
            f"<td>{_t(L.enum('suspect_status', s.status))}</td><td>{_when(s.apprehended_at)}</td>"
            f"<td>{_when(s.detained_at)}</td></tr>"
        )
    out.append("</table>")
    return out


def _notices_section(ev: Evidence) -> list[str]:
    out = [f"<h2>{_t(L.NOTICES)}</h2>"]
    if not ev.notices:
        return [*out, f"<p>{_t(L.NO_NOTICE)}</p>"]
    head = _th("#", L.RECIPIENT, L.STATUS, L.SENT, L.REMOVED, L.HOURS, L.LINKS)
    out.append(f"<table><tr>{head}</tr>")
    for n in ev.notices:
        hours = f"{n.hours_to_removal:.1f}" if n.hours_to_removal is not None else ""
        links = "<br>".join(f'<span class="mono">{_t(u)}</span>' for u in n.urls)
        out.append(
            f"<tr><td>N{n.id}</td><td>{_t(L.enum('recipient', n.recipient))} "
            f"({_t(L.enum('language', n.language))})</td>"
            f"<td>{_t(L.enum('notice_status', n.status))}</td><td>{_when(n.sent_unix)}</td>"
            f"<td>{_when(n.removed_unix)}</td><td>{hours}</td><td>{links}</td></tr>"
        )
    out.append("</table>")
    return out


def _events_section(events: list[StoredEvent]) -> list[str]:
    head = _th(L.SEQ, L.TIME, L.TYPE, L.ACTOR, L.HASH)
    out = [f"<h2>{_t(L.EVENTS)}</h2><table><tr>{head}</tr>"]
    for e in events:
        body = json.loads(e.body)
        out.append(
            f"<tr><td>{body.get('seq')}</td><td>{_when(body.get('at'))}</td>"
            f"<td>{_t(L.enum('event', body.get('type')))}</td><td>{_t(body.get('actor'))}</td>"
            f'<td class="mono">{_t(e.hash)}</td></tr>'
        )
    out.append("</table>")
    return out


def to_pdf(html_text: str) -> bytes:
    """Render with WeasyPrint (the ``cases`` extra); Korean text needs fonts-noto-cjk.

    Importing WeasyPrint sets Pillow's process-wide ``LOAD_TRUNCATED_IMAGES``; it is put
    back at once, so a process that writes a PDF still refuses truncated evidence pictures
    everywhere else (our pages embed only well-formed safe previews)."""
    from PIL import ImageFile

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        from weasyprint import HTML
    except ImportError as exc:  # pragma: no cover - the extra is missing
        from haechi.domain import UsageError

        raise UsageError(
            t_("PDF output needs WeasyPrint: install haechi with the 'cases' extra.")
        ) from exc
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    pdf: bytes = HTML(string=html_text).write_pdf()
    return pdf
