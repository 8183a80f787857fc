"""A region match in words, for every place that shows one to a person (``haechi match``,
the web's matches page): which part of the matched picture, where it is in this file, at
what scale, and what confirmed it when the region hashes alone did not (local features,
or the seeds' placement on the pixels). One function, so the command line and the browser
say the same thing, in English or Korean (the sentences are in the haechi catalogue)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from haechi.i18n import Msg, localize, t_


def _boxes(box: Any) -> str:
    values = box if isinstance(box, list | tuple) and len(box) == 4 else [0, 0, 1, 1]
    try:
        return ", ".join(f"{float(v):.0%}" for v in values)
    except (TypeError, ValueError):  # details come from the database: never trust their shape
        return "?"


def _number(value: Any) -> float:
    try:
        return float(value or 1)
    except (TypeError, ValueError):
        return 1.0


def region_words(details: Mapping[str, Any]) -> list[Msg]:
    """The sentences describing a region match's ``details`` (``RegionMatch.as_dict``)."""
    words = [
        t_(
            "{pairs} regions agree (of {checked} checked), its part [{part}] seen at [{where}] "
            "of this file, scale {scale}",
            pairs=details.get("pairs", "?"),
            checked=details.get("checked", "?"),
            part=_boxes(details.get("target_box")),
            where=_boxes(details.get("query_box")),
            scale=f"{_number(details.get('scale')):.2f}",
        )
    ]
    if details.get("features"):  # the region hashes alone did not decide it
        words.append(
            t_(
                "; confirmed by local features ({matches} matches agree)",
                matches=details["features"],
            )
        )
    if details.get("pixels"):  # neither did local features: the seeds placed on the pixels
        words.append(
            t_("; placed on the pixels ({cells} of its cells agree)", cells=details["pixels"])
        )
    return words


def describe_region(details: Mapping[str, Any], lang: str) -> str:
    """:func:`region_words` as one sentence in ``lang``."""
    return "".join(localize(w, lang) for w in region_words(details))
