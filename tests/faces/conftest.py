"""Helpers for the face tests: real dlib on benign pictures (scikit-image's astronaut,
NASA's public-domain portrait), synthetic embeddings only where the test is about
clustering or indexing logic, written through the real tables and the real projection."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from sqlalchemy import insert

from haechi.analyze.faces import codec
from haechi.app import App
from haechi.store.models import Analysis, Blob, SignalRow

pytest.importorskip("dlib")


def png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="session")
def astronaut_png() -> bytes:
    return png(data.astronaut())


@pytest.fixture(scope="session")
def reference_png() -> bytes:
    from haechi.demo.faces_export import reference_photo

    return reference_photo()


def add_synthetic_faces(
    app: App, vectors: np.ndarray, *, per_blob: int = 1, tag: str = ""
) -> list[str]:
    """Store ``vectors`` as faces of new files (``per_blob`` faces a file), through blobs,
    an ok ``faces`` analysis and ``face`` signals, then project them. Returns the SHAs."""
    from haechi.subjects.projection import project_faces

    shas: list[str] = []
    analysis_ids = []
    with app.db.begin() as conn:
        for start in range(0, len(vectors), per_blob):
            sha = hashlib.sha256(f"{tag}{start}{vectors[start].tobytes()!r}".encode()).hexdigest()
            shas.append(sha)
            conn.execute(
                insert(Blob).values(
                    sha256=sha, md5="0" * 32, size=1, encrypted=False, stored_at="t", kind="image"
                )
            )
            aid = conn.execute(
                insert(Analysis)
                .values(blob_sha256=sha, analyzer="faces", version="1", status="ok", created_at="t")
                .returning(Analysis.id)
            ).scalar_one()
            analysis_ids.append(aid)
            for i, vec in enumerate(vectors[start : start + per_blob]):
                conn.execute(
                    insert(SignalRow).values(
                        analysis_id=aid,
                        blob_sha256=sha,
                        kind="face",
                        score=1.0,
                        data_json=json.dumps(
                            {
                                "i": i,
                                "box": [10, 10, 100, 100],
                                "size": 100,
                                "sharpness": 50.0,
                                "embedding": codec.encode(vec),
                            }
                        ),
                    )
                )
    project_faces(app, analysis_ids)
    return shas


def identities(n_people: int, per_person: int, seed: int = 0, spread: float = 0.04) -> np.ndarray:
    """Face-like embeddings: people about 0.9 apart, their pictures about 0.3 apart."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (n_people, codec.DIM))
    centres *= 0.65 / np.linalg.norm(centres, axis=1, keepdims=True)
    out = centres[:, None, :] + rng.normal(0, spread, (n_people, per_person, codec.DIM)) * 0.6
    return out.reshape(-1, codec.DIM).astype(np.float32)


def write(path: Path, blob: bytes) -> Path:
    path.write_bytes(blob)
    return path
