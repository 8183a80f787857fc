"""``vpdq``: Meta's video PDQ — a PDQ hash of one frame per ``seconds_per_hash``.

One ``vpdq`` signal per video. ``data.frames`` holds ``[frame_number, quality, hex,
timestamp]`` for every hashed frame, exactly the features python-threatexchange's
``VPDQSignal`` serialises (``"hex,quality,timestamp"``), so signals exchange with HMA and
ThreatExchange unchanged. ``value`` is the SHA-256 of that serialisation (the same
video hashed the same way gives the same value, for exact lookups); ``score`` is the
share of frames with quality >= 50 (the frames matching uses).

Matching follows python-threatexchange: frames within 31 bits count, and a video
matches when at least 80 % of the query's good frames have a counterpart.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from haechi.analyze.base import Analyzer
from haechi.domain import UsageError
from haechi.domain.analysis import AnalysisError, AnalysisInput, AnalysisResult, MediaKind, Signal

KIND = "vpdq"
QUALITY_THRESHOLD = 50
FRAME_DISTANCE = 31
QUERY_MATCH_PERCENT = 80.0  # VPDQ_QUERY_MATCH_THRESHOLD_PERCENT
INDEX_MATCH_PERCENT = 0.0  # VPDQ_INDEX_MATCH_THRESHOLD_PERCENT
Frame = tuple[int, int, str, float]  # frame number, quality, PDQ hex, seconds


@dataclass(frozen=True)
class VpdqSettings:
    seconds_per_hash: float = 1.0  # python-threatexchange's default; 0 hashes every frame
    downsample_width: int = 0  # 0 keeps the video's size (the reference setting)
    downsample_height: int = 0


def te_signal_string(frames: list[Frame]) -> str:
    """python-threatexchange's ``vpdq_to_json``: a JSON list of ``"hex,quality,ts"``."""
    return json.dumps([f"{h},{q},{t:.3}" for _, q, h, t in frames])


def parse_te_signal_string(text: str) -> list[Frame]:
    """Inverse of :func:`te_signal_string`; raises ValueError naming what is wrong."""
    try:
        items = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        raise ValueError(f"a vPDQ signal is a JSON list of strings ({exc.msg})") from None
    if not isinstance(items, list):
        raise ValueError("a vPDQ signal is a JSON list of 'hex,quality,timestamp' strings")
    frames: list[Frame] = []
    for number, item in enumerate(items):
        parts = item.split(",") if isinstance(item, str) else []
        if len(parts) != 3:
            raise ValueError(f"vPDQ frame {number} is not 'hex,quality,timestamp'")
        hex_, quality, ts = parts[0].strip().lower(), int(parts[1]), float(parts[2])
        if len(hex_) != 64 or any(c not in "0123456789abcdef" for c in hex_):
            raise ValueError(f"vPDQ frame {number} has no 64-hex-digit PDQ hash")
        if not 0 <= quality <= 100 or ts < 0:
            raise ValueError(f"vPDQ frame {number} has a quality or time out of range")
        frames.append((number, quality, hex_, ts))
    return frames


def digest(frames: list[Frame]) -> str:
    return hashlib.sha256(te_signal_string(frames).encode()).hexdigest()


def good_share(frames: list[Frame]) -> float:
    return round(sum(1 for f in frames if f[1] >= QUALITY_THRESHOLD) / len(frames), 4)


def hash_video(path: Any, settings: VpdqSettings | None = None) -> list[Frame]:
    import vpdq

    s = settings or VpdqSettings()
    try:
        features = vpdq.computeHash(
            str(path),
            seconds_per_hash=s.seconds_per_hash,
            downsample_width=s.downsample_width,
            downsample_height=s.downsample_height,
            thread_count=1,  # the runner already runs one worker per core
        )
    except Exception as exc:  # vpdq raises a bare Exception for unreadable files
        raise AnalysisError(f"vPDQ could not read the video: {exc}") from exc
    return [
        (int(f.frame_number), int(f.quality), str(f.hex), round(float(f.timestamp), 3))
        for f in features
    ]


class VpdqAnalyzer(Analyzer):
    name: ClassVar[str] = "vpdq"
    version: ClassVar[str] = "1"
    media_kinds = frozenset({MediaKind.VIDEO})
    description = "vPDQ: PDQ hashes of video frames (re-encoded and cut re-posts)."
    settings_cls: ClassVar[type] = VpdqSettings
    time_limit: ClassVar[float] = 900.0  # a long video at one hash per second

    def __init__(self, settings: Any = None) -> None:
        super().__init__(settings)
        s = self.settings
        if s.seconds_per_hash < 0 or s.downsample_width < 0 or s.downsample_height < 0:
            raise UsageError("Settings of analyzers.vpdq must not be negative.")

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        frames = hash_video(item.path, self.settings)
        if not frames:
            raise AnalysisError("vPDQ found no decodable video frame")
        data = {
            "frames": [list(f) for f in frames],
            "seconds_per_hash": float(self.settings.seconds_per_hash),
        }
        signal = Signal(KIND, digest(frames), good_share(frames), data)
        warnings = []
        if signal.score == 0:
            warnings.append("no frame reaches PDQ quality 50: this video will not match")
        return AnalysisResult(signals=[signal], warnings=warnings)
