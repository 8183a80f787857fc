"""What can go wrong while capturing a public page: each error is one sentence a person acts on.

``kind`` is a short machine word recorded in the custody event of a failed capture, so the
log can be searched for "all captures that hit a TLS error" without parsing sentences.
"""

from __future__ import annotations

from haechi.domain import HaechiError


class CaptureError(HaechiError):
    """A capture could not be made (or not completely); ``str()`` is the sentence."""

    kind = "error"

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url


class BadUrl(CaptureError):
    kind = "bad_url"


class ConnectFailed(CaptureError):
    kind = "connect"


class TlsFailed(CaptureError):
    kind = "tls"


class TimedOut(CaptureError):
    kind = "timeout"


class TooLarge(CaptureError):
    kind = "too_large"


class RedirectLoop(CaptureError):
    kind = "redirect_loop"


class OffHostRedirect(CaptureError):
    kind = "offhost_redirect"


class RefusedAddress(CaptureError):
    kind = "refused_address"


class BadResponse(CaptureError):
    kind = "bad_response"


class TimestampFailed(CaptureError):
    """The timestamp authority could not be reached or answered something unusable."""

    kind = "timestamp"


class ScreenshotFailed(CaptureError):
    kind = "screenshot"
