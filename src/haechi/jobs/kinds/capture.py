"""``capture``: preserve a public page as signed, timestamped WARC/WACZ evidence
(``haechi capture URL``) from the investigators' capture page. The result to download is
the WACZ with its RFC 3161 token and screenshot, in one uncompressed zip."""

from __future__ import annotations

import zipfile
from typing import Any

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.domain import UsageError
from haechi.jobs.kinds._case import flag, optional_case
from haechi.jobs.model import JobContext, JobKind, JobOutput


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    from haechi.collect.web_capture.fetch import check_url

    cleaned: dict[str, Any] = {
        "url": check_url(str(params.get("url") or "")),
        "follow_offhost": flag(params, "follow_offhost", False),
    }
    if params.get("pages") not in (None, ""):  # a channel's older pages (history.py)
        cleaned["pages"] = _pages(params["pages"])
    if params.get("back_to") not in (None, ""):  # older pages until this message id
        cleaned["back_to"] = _message_id(params["back_to"])
    return optional_case(app, params, cleaned)


def _message_id(value: Any) -> int:
    """A post's message id (``--back-to``), refused with the capture's own sentence."""
    from haechi.collect.web_capture.history import check_back_to

    return check_back_to(_whole(value))


def _pages(value: Any) -> int:
    """The pages asked for, refused with the capture's own sentence when out of bounds."""
    from haechi.collect.web_capture.history import check_pages

    return check_pages(_whole(value))


def _whole(value: Any) -> int:
    """A form's or JSON body's whole number (``"12"`` or ``12``); 0, which the capture's
    checks refuse, for anything else (``str.isdigit`` alone takes "²", which ``int()`` does
    not)."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def run(ctx: JobContext) -> JobOutput:
    from haechi.collect.web_capture.errors import CaptureError
    from haechi.collect.web_capture.service import CaptureOptions, capture

    ctx.progress(0.05, "capturing")
    out = ctx.folder / "files"
    opts = CaptureOptions(
        case=ctx.params.get("case"), follow_offhost=bool(ctx.params["follow_offhost"]),
        out_dir=out, pages=ctx.params.get("pages"), back_to=ctx.params.get("back_to"),
    )  # fmt: skip
    try:
        report = capture(ctx.app, ctx.params["url"], opts)
    except CaptureError as exc:
        # Recorded already (a web_capture_failed custody event with what arrived): the job
        # fails with the capture's own sentence.
        raise UsageError(str(exc)) from None
    ctx.progress(0.95, "packing")
    written = sorted(out.iterdir()) if out.is_dir() else []
    summary = {
        k: v
        for k, v in report.as_dict().items()
        if k in ("url", "outcome", "status", "channel", "posts", "messages_new", "media_fetched",
                 "files_new", "wacz_sha256", "timestamp_check", "custody_seq", "warnings",
                 "pages", "pages_stopped", "oldest_id", "newest_id")
    }  # fmt: skip
    if not written:
        return JobOutput(summary=summary)
    bundle = ctx.folder / f"capture-{report.capture_id}.zip"
    with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_STORED) as zf:
        for path in written:
            zf.write(path, path.name)
    return JobOutput(path=bundle, summary=summary)


KIND = JobKind(
    name="capture",
    perm=Perm.LIVE,
    title_key="jobs.kind.capture",
    check=check,
    run=run,
    time_limit=1800.0,
)
