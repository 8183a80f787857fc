"""Enrolment from the web's form values (the page and ``POST /api/subjects``), on the
subjects service the CLI uses.

``check_form`` is what a page can check at once, cheaply (the label, the consent, the
photos' count, size and picture header): the page answers those in the form; the face
work (``enrol_from_form``) then runs in a background job for the page, or in the request
for the API.
"""

from __future__ import annotations

import io

from haechi.app import App
from haechi.i18n import t_
from haechi.subjects.consent import ConsentRequest, check_consent
from haechi.subjects.enroll import MAX_PHOTO_BYTES
from haechi.subjects.model import SubjectError, SubjectInfo

FIELDS = ("label", "given_by", "relation", "given_at", "valid_until", "reference", "is_minor")
MAX_PIXELS = 40_000_000  # a reference photo's width x height, read from its header


def consent_of(values: dict[str, str]) -> ConsentRequest:
    return ConsentRequest(
        given_by=values.get("given_by") or "",
        scope=values.get("scope") or "",
        given_at=values.get("given_at") or "",
        relation=values.get("relation") or "self",
        valid_until=values.get("valid_until") or None,
        reference=(values.get("reference") or "").strip()[:120] or None,
    )


def is_minor(values: dict[str, str]) -> bool:
    return values.get("is_minor") in ("1", "on", "true")


def check_form(app: App, values: dict[str, str], photos: list[tuple[str, bytes]]) -> str:
    """The cleaned label, or a :class:`SubjectError` with the sentence the page shows:
    a label that is not a free case code, a consent that does not hold, no photo, or a
    file that is not a picture (read from its header; faces are the job's)."""
    from PIL import Image, UnidentifiedImageError

    from haechi.subjects.service import check_new_label

    label = check_new_label(app, values.get("label") or "")
    check_consent(consent_of(values))
    if not photos:
        raise SubjectError(t_("Enrolment needs at least one reference photo (--photo)."))
    for name, data in photos:
        if len(data) > MAX_PHOTO_BYTES:
            raise SubjectError(
                t_("{name} is larger than {mb} MB.", name=name, mb=MAX_PHOTO_BYTES // 1_000_000)
            )
        try:
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise SubjectError(
                t_("{name} is not a readable picture ({exc}).", name=name, exc=exc)
            ) from None
        if width * height > MAX_PIXELS:
            raise SubjectError(
                t_(
                    "{name} is {w}x{h} pixels; a reference photo may have at most {mp} million.",
                    name=name,
                    w=width,
                    h=height,
                    mp=MAX_PIXELS // 1_000_000,
                )
            )
    return label


def enrol_from_form(
    app: App, who: str, values: dict[str, str], photos: list[tuple[str, bytes]]
) -> tuple[SubjectInfo, list[str]]:
    """Enrol from the form's values: her record and the warnings about weak photos."""
    from haechi.subjects.service import enroll_subject

    return enroll_subject(
        app,
        label=values.get("label") or "",
        photos=photos,
        consent=consent_of(values),
        staff=who,
        is_minor=is_minor(values),
    )
