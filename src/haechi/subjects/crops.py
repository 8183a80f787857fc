"""The face region of a candidate, cut from the original for a person to recognise her.

Least exposure: only the face box the faces analyzer stored (with a margin for hair and
chin, never down to the shoulders), greyscale unless colour is asked for, at most
``MAX_SIDE`` pixels. It is made in memory from the vault's original and returned as JPEG
bytes: never written to disk, never cached (the page asks for it again after a logged
act). Showing it is the caller's act to log (the web page does, per candidate).

Only files the faces analyzer already decoded reach here (they have a face on record), and
decompression bombs are refused as in analysis; pictures are read with the same loader as
analysis (EXIF orientation applied, so the box fits), videos at the keyframe the face was
found in.
"""

from __future__ import annotations

import io

from haechi.app import App
from haechi.domain.analysis import AnalysisError
from haechi.i18n import t_
from haechi.subjects.model import SubjectError

MAX_SIDE = 320  # px of the crop's longer side
MIN_SIDE = 160  # small faces are enlarged to this, so they can be recognised
MAX_IMAGE_BYTES = 64 * 1024 * 1024
MAX_VIDEO_BYTES = 256 * 1024 * 1024
LOAD_SIDE = 8192  # pictures larger than this are reduced before cutting
# Margins around the detector's box (which runs from the brows to the chin), as fractions
# of its width and height: hair and ears, a little below the chin, no more.
SIDE, TOP, BOTTOM = 0.30, 0.45, 0.15


def _region(
    box: tuple[int, int, int, int], scale: float, width: int, height: int
) -> tuple[int, int, int, int]:
    x, y, w, h = (v * scale for v in box)
    left = max(0, int(x - SIDE * w))
    top = max(0, int(y - TOP * h))
    right = min(width, int(x + w + SIDE * w + 0.5))
    bottom = min(height, int(y + h + BOTTOM * h + 0.5))
    if right - left < 2 or bottom - top < 2:
        raise SubjectError(t_("The face box on record lies outside the picture."))
    return left, top, right, bottom


def _frame_at(data: bytes, t: float) -> object:
    import av

    try:
        container = av.open(io.BytesIO(data), metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise SubjectError(t_("The video cannot be read: {exc}.", exc=exc)) from exc
    assert isinstance(container, av.container.InputContainer)
    with container:
        if not container.streams.video:
            raise SubjectError(t_("The file has no video stream."))
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"  # the face was found on a keyframe
        best = None
        try:
            for frame in container.decode(stream):
                when = float(frame.time) if frame.time is not None else 0.0
                best = frame.to_image()
                if when + 1e-3 >= t:
                    break
        except av.FFmpegError as exc:
            if best is None:
                raise SubjectError(t_("The video cannot be decoded: {exc}.", exc=exc)) from exc
        if best is None:
            raise SubjectError(t_("No frame of the video could be decoded."))
        return best


def face_crop(
    app: App,
    sha256: str,
    box: tuple[int, int, int, int],
    *,
    kind: str | None,
    t: float | None = None,
    colour: bool = False,
) -> bytes:
    """JPEG bytes of the face region of a stored file (see the module docstring)."""
    from PIL import Image

    from haechi.analyze.faces.image import load_picture
    from haechi.run.analysis_worker import harden_decoders

    harden_decoders()
    with app.vault.open(sha256) as stream:
        limit = MAX_VIDEO_BYTES if kind == "video" else MAX_IMAGE_BYTES
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise SubjectError(
            t_(
                "The file is larger than {mb} MB: its face is not cut "
                "out in the browser; use the investigators' tools.",
                mb=limit // (1024 * 1024),
            )
        )
    if kind == "video":
        frame = _frame_at(data, float(t or 0.0))
        assert isinstance(frame, Image.Image)
        image, scale = frame.convert("RGB"), 1.0
    else:
        try:
            picture = load_picture(io.BytesIO(data), LOAD_SIDE)
        except AnalysisError as exc:
            raise SubjectError(t_("The picture cannot be read: {exc}.", exc=exc)) from exc
        image, scale = Image.fromarray(picture.rgb), picture.scale
    del data
    crop = image.crop(_region(box, scale, image.width, image.height))
    longer = max(crop.size)
    target = min(MAX_SIDE, max(MIN_SIDE, longer))
    if longer != target:
        ratio = target / longer
        crop = crop.resize(
            (max(1, round(crop.width * ratio)), max(1, round(crop.height * ratio))),
            Image.Resampling.LANCZOS,
        )
    if not colour:
        crop = crop.convert("L")
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=85)
    return out.getvalue()
