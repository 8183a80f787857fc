"""The safe preview (and heat map) of a file, as made at analysis time.

Only derived files are served from here, never the evidence: the preview comes from the
derived store (``HOME/derived``). A file without one (not analysed yet, not a picture,
or the analysis failed) gives None, and the caller shows a placeholder, not the original.
"""

from __future__ import annotations

from dataclasses import dataclass

from haechi.app import App
from haechi.store.vault import Vault
from haechi.triage.records import artifact_of, newest_analysis_ids

SAFE_PREVIEW = "safe_preview"  # made by the nudity analyzer
HEATMAP = "synthetic_heatmap"  # made by the synthetic analyzer


@dataclass(frozen=True)
class Derived:
    sha256: str  # of the derived file itself
    mime: str
    data: bytes


def _derived(app: App) -> Vault:
    return Vault(app.settings.derived_dir, key=app.vault.key, encrypt=app.vault.encrypted)


def _artifact(app: App, sha256: str, analyzer: str, name: str) -> Derived | None:
    with app.db.connect() as conn:
        ids = newest_analysis_ids(conn, sha256, [analyzer])
        found = artifact_of(conn, ids[analyzer], name) if analyzer in ids else None
    if found is None:
        return None
    art_sha, mime = found
    return Derived(art_sha, mime, _derived(app).read_bytes(art_sha))


def safe_preview(app: App, sha256: str) -> Derived | None:
    """Greyscale, downscaled, exposed regions (and faces) pixelated; JPEG."""
    return _artifact(app, sha256, "nudity", SAFE_PREVIEW)


def heatmap(app: App, sha256: str) -> Derived | None:
    """The baseline detector's per-tile score, RGBA PNG at the preview's size."""
    return _artifact(app, sha256, "synthetic", HEATMAP)
