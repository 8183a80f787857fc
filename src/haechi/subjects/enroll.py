"""Templates from reference photos: the same detection, alignment and embedding as evidence.

A reference photo must show the subject's face clearly: no face, or two faces of similar
size (which one is she?), is refused with a sentence saying what to do; a small or weak
face is accepted with a warning, because a poor template finds fewer images.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from haechi.domain.analysis import AnalysisError
from haechi.i18n import t_
from haechi.subjects.model import SubjectError

MAX_PHOTO_BYTES = 40 * 1024 * 1024
MAX_SIDE = 2560
# A second face at least this large (relative to the largest) makes the photo ambiguous.
AMBIGUOUS = 0.6
SMALL_FACE = 60  # px: below this a template is noticeably weaker


@dataclass
class Reference:
    name: str  # for messages only (the file name the staff member gave)
    data: bytes
    sha256: str
    embedding: object  # np.ndarray (128,)
    score: float
    size: int
    sharpness: float
    warnings: list[str] = field(default_factory=list)


def read_photo_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_PHOTO_BYTES:
            raise SubjectError(
                t_(
                    "{name} is {size:.0f} MB; a reference photo may be at most {mb} MB.",
                    name=path.name,
                    size=size / 1e6,
                    mb=MAX_PHOTO_BYTES // 1_000_000,
                )
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise SubjectError(t_("There is no photo at {path}.", path=path)) from None
    except IsADirectoryError:
        raise SubjectError(t_("{path} is a folder, not a photo.", path=path)) from None


def reference_from_bytes(name: str, data: bytes) -> Reference:
    from haechi.analyze.faces.image import TooSmall, load_picture
    from haechi.analyze.faces.pipeline import FacePipeline
    from haechi.run.analysis_worker import harden_decoders

    if len(data) > MAX_PHOTO_BYTES:
        raise SubjectError(
            t_("{name} is larger than {mb} MB.", name=name, mb=MAX_PHOTO_BYTES // 1_000_000)
        )
    harden_decoders()
    try:
        picture = load_picture(io.BytesIO(data), MAX_SIDE)
    except TooSmall as exc:
        raise SubjectError(t_("{name}: {exc}; use a larger photo.", name=name, exc=exc)) from None
    except AnalysisError as exc:
        raise SubjectError(
            t_("{name} is not a readable picture ({exc}).", name=name, exc=exc)
        ) from None
    faces = FacePipeline().main_faces(picture, AMBIGUOUS)
    if not faces:
        raise SubjectError(
            t_(
                "No face was found in {name}: use a photo where the face is "
                "clearly visible, frontal and at least 80 pixels wide.",
                name=name,
            )
        )
    main = faces[0]  # the largest
    others = [f for f in faces[1:] if f.size >= AMBIGUOUS * main.size]
    if others:
        raise SubjectError(
            t_(
                "{name} shows {faces} faces of similar size: crop it to the "
                "subject's face and enrol the crop.",
                name=name,
                faces=1 + len(others),
            )
        )
    warnings = []
    if main.size < SMALL_FACE:
        warnings.append(f"{name}: the face is only {main.size} px wide; a larger photo is better")
    if main.score < 0.3:
        warnings.append(f"{name}: the face is hard to detect (score {main.score:.2f})")
    return Reference(
        name=name,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        embedding=main.embedding,
        score=main.score,
        size=main.size,
        sharpness=main.sharpness,
        warnings=warnings,
    )
