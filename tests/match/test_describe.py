"""A region match in words (haechi.match.describe): the same sentence for the command line
and the web, in English and Korean, saying what confirmed it; details read back from the
database are never trusted to have the right shape."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from haechi.match.describe import describe_region

FOUND = {
    "stage": "region", "pairs": 3, "checked": 5, "scale": 1.0,
    "target_box": [0.2, 0.2, 0.8, 0.8], "query_box": [0, 0, 1, 1],
}  # fmt: skip


def test_what_confirmed_it_is_said_in_both_languages() -> None:
    plain = describe_region(FOUND, "en")
    assert plain.startswith("3 regions agree (of 5 checked), its part [20%, 20%, 80%, 80%]")
    assert "local features" not in plain and "pixels" not in plain
    both = describe_region({**FOUND, "features": 40, "pixels": 62}, "en")
    assert "confirmed by local features (40 matches agree)" in both
    assert both.endswith("placed on the pixels (62 of its cells agree)")
    ko = describe_region({**FOUND, "features": 40, "pixels": 62}, "ko")
    assert "영역 3곳 일치" in ko and "국소 특징으로 확인됨 (일치 40개)" in ko
    assert "픽셀 위 배치로 확인됨 (칸 62개 일치)" in ko


@given(
    st.dictionaries(
        st.sampled_from(
            ["pairs", "checked", "scale", "target_box", "query_box", "features", "pixels"]
        ),
        st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=5),
    ),
    st.sampled_from(["en", "ko", "fr"]),
)
def test_any_stored_shape_gives_a_sentence(details: dict, lang: str) -> None:
    said = describe_region(details, lang)
    assert isinstance(said, str) and said
