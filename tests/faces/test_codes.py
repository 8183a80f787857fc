"""The range codes (haechi.match.face_codes) against the inverted file they compress and
against brute force: real FAISS, generated face-like vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.faces.conftest import identities

from haechi.match import face_codes
from haechi.match.face_index import FaceIndex


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[FaceIndex, np.ndarray, np.ndarray]:
    """20,000 faces of 4,000 people plus one person with 100 pictures (more than the codes
    are first asked for), ids not 0..n-1."""
    rng = np.random.default_rng(3)
    many = identities(1, 101, seed=9)
    vectors = np.concatenate([identities(4000, 5, seed=1), many[:100]])
    ids = rng.permutation(len(vectors)).astype(np.int64) * 7 + 11
    index = FaceIndex(Path(tmp_path_factory.mktemp("codes")))
    index.build(vectors, ids, exact_limit=2_000)
    return index, vectors, ids


def new_pictures(vectors: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """New pictures of 200 indexed people (about 0.27 from one of their pictures, 0.47 from
    the others), then ``extra``."""
    rng = np.random.default_rng(4)
    some = vectors[rng.choice(20_000, 200, replace=False)]
    some = some + rng.normal(0, 0.024, some.shape).astype(np.float32)
    return np.concatenate([some, extra]).astype(np.float32)


def brute(vectors: np.ndarray, q: np.ndarray) -> np.ndarray:
    return ((vectors.astype(np.float64) - q.astype(np.float64)) ** 2).sum(axis=1)


def test_the_codes_answer_what_the_inverted_file_answers(
    built: tuple[FaceIndex, np.ndarray, np.ndarray],
) -> None:
    import faiss

    index, vectors, ids = built
    assert index.kind == "ivf" and index.codes is not None
    assert index.codes.ntotal == index.total == len(ids)
    assert index.meta["code_error"] == pytest.approx(
        face_codes.reconstruction_error(index.codes.pq, vectors), rel=1e-5
    )
    queries = new_pictures(vectors, identities(1, 101, seed=9)[100:])
    d2 = np.stack([brute(vectors, q) for q in queries])
    own = np.sort(np.concatenate([row[row < 0.55**2] for row in d2]))
    # The threshold, and one through the middle of a person's own pictures, so that half
    # of them lie just inside and half just outside: the codes' margin is what is tested.
    middle = float(np.sqrt((own[len(own) // 2] + own[len(own) // 2 + 1]) / 2))
    nprobe = int(index.meta["nprobe"])
    assert nprobe < int(index.index.nlist) // 4
    for radius in (middle, 0.55):
        got = index.within(queries, radius)
        lims, _, found = index.index.range_search(
            queries, radius**2, params=faiss.SearchParametersIVF(nprobe=nprobe)
        )
        by_ivf = [set(found[lims[i] : lims[i + 1]].tolist()) for i in range(len(queries))]
        truth = [set(ids[np.nonzero(row < radius**2)[0]].tolist()) for row in d2]
        assert [{h.face_id for h in hits} for hits in got] == by_ivf
        hit = sum(len({h.face_id for h in g} & t) for g, t in zip(got, truth, strict=True))
        assert hit / sum(map(len, truth)) >= 0.99
        position = {int(f): i for i, f in enumerate(ids)}
        for row, hits in zip(d2, got, strict=True):
            exact = [float(np.sqrt(row[position[h.face_id]])) for h in hits]
            assert [h.distance for h in hits] == pytest.approx(exact, abs=1e-5)
            assert exact == sorted(exact)
    # The person with 100 pictures: all of them, past the codes' first 32 neighbours.
    assert len(got[-1]) == len(truth[-1]) == 100


def test_the_bound_holds_for_every_face_within_the_radius(
    built: tuple[FaceIndex, np.ndarray, np.ndarray],
) -> None:
    index, vectors, _ = built
    pq = index.codes.pq
    back = pq.decode(pq.compute_codes(vectors))
    error = float(index.meta["code_error"])
    for q in new_pictures(vectors, vectors[:0])[::4]:
        exact, estimated = brute(vectors, q), brute(back, q)
        for radius in (0.35, 0.55):
            inside = exact < radius**2
            assert inside.any()
            assert (estimated[inside] <= face_codes.limit2(radius, error)).all()
