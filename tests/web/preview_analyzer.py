"""A stand-in safe-preview maker for the web tests (loaded through HAECHI_EXTRA_ANALYZERS):
greyscale, 16-pixel blocks, like the nudity analyzer's previews, so the tests do not depend
on that capability. Files whose SHA-256 starts with a digit get no preview, so every run has
files that must show the placeholder."""

from __future__ import annotations

import io
from typing import ClassVar

from PIL import Image

from haechi.analyze.base import Analyzer
from haechi.domain.analysis import AnalysisInput, AnalysisResult, Artifact, MediaKind, Signal


class TestPreview(Analyzer):
    name: ClassVar[str] = "t_preview"
    version: ClassVar[str] = "1"
    media_kinds = frozenset({MediaKind.IMAGE})

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        if item.sha256[0].isdigit():
            return AnalysisResult([Signal("t_preview", "skipped")])
        with Image.open(item.path) as im:
            small = im.convert("L").resize((16, 12)).resize((320, 240), Image.NEAREST)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=70)
        return AnalysisResult(
            [Signal("t_preview", "made")],
            artifacts=[Artifact("safe_preview", out.getvalue(), "image/jpeg")],
        )


EXTRA = "t_preview=tests.web.preview_analyzer:TestPreview"
