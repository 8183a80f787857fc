"""``mediainfo``: what a picture or clip is — format, size, frames, orientation, duration.

Reports what the *file* says, which can differ from what the message claimed (an export's
``width``/``height``, a ``.jpg`` that is a PNG): both are kept, and the difference is a
fact for the investigator. Images are read with Pillow (headers only, plus a frame count
for animations); video and audio are probed with PyAV, without decoding.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, ClassVar

from haechi.analyze.base import Analyzer
from haechi.domain.analysis import AnalysisError, AnalysisInput, AnalysisResult, MediaKind, Signal

_ORIENTATION = 0x0112


def _image_info(item: AnalysisInput) -> dict[str, Any]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(item.path) as im:
            info: dict[str, Any] = {
                "format": im.format,
                "mode": im.mode,
                "width": im.width,
                "height": im.height,
                "frames": int(getattr(im, "n_frames", 1)),
            }
            orientation = im.getexif().get(_ORIENTATION)
            if orientation:
                info["exif_orientation"] = int(orientation)
            if im.info.get("icc_profile"):
                info["icc_profile"] = True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise AnalysisError(f"not a readable image: {exc}") from exc
    return info


def _number(value: Any) -> float | None:
    if value is None:
        return None
    return round(float(Fraction(value)), 3)


def _av_info(item: AnalysisInput) -> dict[str, Any]:
    import av

    try:
        with av.open(str(item.path), metadata_errors="ignore") as container:
            info: dict[str, Any] = {
                "format": container.format.name,
                "duration_seconds": round(container.duration / 1e6, 3)
                if container.duration
                else None,
                "streams": [],
            }
            for stream in container.streams:
                entry: dict[str, Any] = {
                    "type": stream.type,
                    "codec": stream.codec_context.name if stream.codec_context else None,
                }
                ctx: Any = stream.codec_context  # video or audio context, by stream.type
                if ctx is None:  # a stream FFmpeg has no decoder for: its type only
                    entry.update(width=None, height=None)
                elif stream.type == "video":
                    entry.update(
                        width=ctx.width,
                        height=ctx.height,
                        fps=_number(stream.average_rate),
                        frames=stream.frames or None,
                    )
                elif stream.type == "audio":
                    entry.update(sample_rate=ctx.sample_rate)
                info["streams"].append(entry)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise AnalysisError(f"not a readable media file: {exc}") from exc
    video = next((s for s in info["streams"] if s["type"] == "video"), None)
    if video:
        info["width"], info["height"] = video["width"], video["height"]
    return info


class MediaInfo(Analyzer):
    name: ClassVar[str] = "mediainfo"
    version: ClassVar[str] = "1"
    media_kinds = frozenset(
        {MediaKind.IMAGE, MediaKind.ANIMATION, MediaKind.VIDEO, MediaKind.AUDIO}
    )
    description = "Format, pixel size, frames, EXIF orientation, duration and codecs."
    time_limit: ClassVar[float] = 60.0

    def analyze(self, item: AnalysisInput) -> AnalysisResult:
        if item.kind in (MediaKind.IMAGE, MediaKind.ANIMATION):
            info = _image_info(item)
        else:
            info = _av_info(item)
        info["sniffed_mime"] = item.mime
        warnings = []
        declared = (item.hints.get("width"), item.hints.get("height"))
        if all(declared) and declared != (info.get("width"), info.get("height")):
            warnings.append(
                f"the message declared {declared[0]}x{declared[1]}, "
                f"the file is {info.get('width')}x{info.get('height')}"
            )
        return AnalysisResult(
            signals=[Signal("mediainfo", info.get("format"), None, info)], warnings=warnings
        )
