"""How a 128-d face embedding is written down: little-endian float32, base64 in JSON.

Kept free of dlib so the index, search and clustering read embeddings without loading
any model. float32 is what dlib computes in; storing it exactly (not as rounded decimal
text) makes a rebuilt index return bit-identical distances.
"""

from __future__ import annotations

import base64

import numpy as np

DIM = 128
MODEL = "dlib_face_recognition_resnet_model_v1"


def encode(vector: np.ndarray | list[float]) -> str:
    arr = np.asarray(vector, dtype="<f4").reshape(-1)
    if arr.shape != (DIM,):
        raise ValueError(f"a face embedding has {DIM} numbers, not {arr.shape[0]}")
    return base64.b64encode(arr.tobytes()).decode("ascii")


def to_bytes(vector: np.ndarray | list[float]) -> bytes:
    arr = np.asarray(vector, dtype="<f4").reshape(-1)
    if arr.shape != (DIM,):
        raise ValueError(f"a face embedding has {DIM} numbers, not {arr.shape[0]}")
    return arr.tobytes()


def from_bytes(raw: bytes) -> np.ndarray:
    if len(raw) != DIM * 4:
        raise ValueError(f"a stored face embedding must be {DIM * 4} bytes, not {len(raw)}")
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def decode(text: str) -> np.ndarray:
    return from_bytes(base64.b64decode(text, validate=True))


def stack(raws: list[bytes]) -> np.ndarray:
    """Many stored embeddings as one (n, 128) float32 matrix."""
    if not raws:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.frombuffer(b"".join(raws), dtype="<f4").reshape(-1, DIM).astype(np.float32)
